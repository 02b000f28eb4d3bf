import type Router from '@koa/router';
import type Koa from 'koa';
import { fingerprint } from './http/bearer';
import { ADMIN_PREFIX, createAdminRouter, guardAdmin } from './admin/router';
import { AuthGate } from './http/auth-gate';
import { refuseAmbiguousSeparators } from './http/path-guard';
import { createAlerts, type Alerts } from './alerts';
import { Silences } from './alerts/silences';
import { createApp } from './app';
import type { Config } from './config/schema';
import { createDestinations } from './destinations';
import { secretsOfConfig } from './destinations/secrets';
import type { Destination } from './destinations/types';
import { DeliveryWorker } from './delivery/worker';
import type { Lifecycle } from './http/health';
import type { CallbackRouteDeps } from './ingest/route';
import { startRejectionKeeper, type RejectionKeeper } from './ingest/rejection-keeper';
import { BodyBudget, parseSize } from './ingest/body';
import { listen, type RunningServer } from './http/server';
import { createMetrics, type Metrics } from './metrics';
import type { Logger } from './log';
import { createPlanner, type Plan, type Planner } from './routing/plan';
import { GroupFlusher } from './alerts/grouping/flusher';
import { resolveMinIntervals } from './destinations/rate';
import { resolveGroupings, withGrouping } from './routing/group';
import { Components, once } from './runtime/components';
import { RuntimeEvents } from './runtime/events';
import { listPartnerSecrets, preparePartners } from './skypay/partners';
import { parseOffsetMinutes } from './skypay/time';
import { createCallbackStruct } from './skypay/validate';
import { openStore, type Store } from './store';
import { startRetentionJob } from './retention/retention';
import { listConfigWarnings } from './config/load';
import { createPayoutPolicy } from './payouts/policy';
import { StuckWatcher } from './payouts/stuck';
import { createLedgerDaily, type LedgerDaily } from './ledger/daily';
import { isPayoutAnomalyKind } from './event';
import { resolveStuckWaits } from './payouts/stuck-after';
import { Dashboard } from './ui';
import { createOperations, storeOptionsOf, type Operations } from './operations';
import { UI_PREFIX } from './ui/layout';
import { confirmationOptions, createReconciler } from './payouts/reconciler';

export interface DaemonOptions {
  /** Extra routers mounted after the built-in ones, behind the same guards (embedding, tests). */
  routers?: Router[];
  /** The clock the daily ledger tells the days by (tests move it to the next day); Date.now otherwise. */
  clock?: () => number;
}

/**
 * The whole daemon, as components started in order and stopped in reverse (src/runtime/components.ts):
 *
 *   store -> destinations -> metrics -> retention -> alerts -> delivery worker -> rejection keeper -> HTTP server
 *
 * so a stop closes the server first (no new callbacks), lets the worker finish its sends, and closes the store
 * last. What happens inside (callback outcomes, rejections, attempts, a lost database file) is told on one typed bus,
 * `events`, that metrics and alerts subscribe to. Everything comes in through the validated config; nothing here
 * reads the environment.
 */
export class Daemon {
  /** callback outcomes, rejections, attempts, a lost store: subscribe before start() to hear all of them. */
  readonly events: RuntimeEvents;
  readonly destinations: Map<string, Destination>;
  /** Where every event (payouts, alerts, replays) is routed: the configured rules, compiled once. */
  readonly planDeliveries: Plan;
  private readonly planner: Planner;
  private readonly components: Components;
  private opened: { store: Store; worker: DeliveryWorker } | undefined;
  private server: RunningServer | undefined;
  private state: Lifecycle = 'idle';
  /** Active silences: narrow the plan of callbacks and alerts; replays ignore them. */
  private silences: Silences | undefined;
  /** The use cases the admin API and the dashboard share with the CLI (from start() on). */
  private operations: Operations | undefined;
  /** The dashboard at /ui, when admin.token is set. */
  private dashboard: Dashboard | undefined;
  /** The daily ledger summary, when ledger.dailyAt is set: its check can be run now (tests, embedding). */
  ledgerDaily: LedgerDaily | undefined;
  /** Wrong tokens per address, for /admin, /metrics and the dashboard's sign-in alike. */
  private readonly authGate: AuthGate;
  readonly stop: () => Promise<void>;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly options: DaemonOptions = {},
  ) {
    this.events = new RuntimeEvents(logger);
    this.components = new Components(logger);
    this.destinations = createDestinations(config.destinations, {
      timeoutMs: config.delivery.timeoutMs,
      logger,
      timezone: config.skypay.timezone,
      // Links to the dashboard only where there is one.
      publicUrl: config.admin.token ? config.ui.publicUrl : undefined,
      secrets: secretsOfConfig(config),
    });
    this.planner = createPlanner(config.rules);
    // Grouping destinations: payouts routed there join their group instead of getting a delivery each.
    this.planDeliveries = withGrouping(this.planner.plan, resolveGroupings(config.destinations));
    this.stop = once(() => this.drain());
    this.authGate = new AuthGate(config.server.authThrottle, {
      logger,
      onRefused: (surface, outcome) => this.events.emit('auth.refused', { surface, outcome }),
    });
  }

  /** How new events are routed: the rules, less what an active silence holds back (replays ignore silences). */
  private get routedPlan(): Plan {
    return this.silences?.plan ?? this.planDeliveries;
  }

  /** The open store (from start() on): the one interface the CLI and admin API use too. */
  get store(): Store {
    if (!this.opened) throw new Error('daemon is not started');
    return this.opened.store;
  }

  get worker(): DeliveryWorker {
    if (!this.opened) throw new Error('daemon is not started');
    return this.opened.worker;
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  get address(): { host: string; port: number } {
    if (!this.server) throw new Error('daemon is not listening');
    return { host: this.server.address.address, port: this.server.address.port };
  }

  /** Starts every component in order; if one fails, those already started are stopped and the error is thrown. */
  async start(): Promise<void> {
    this.state = 'starting';
    for (const warning of listConfigWarnings(this.config)) this.logger.warn({ warning }, 'configuration warning');
    try {
      await this.startComponents();
    } catch (err) {
      this.state = 'draining';
      await this.components.stop();
      this.state = 'stopped';
      throw err;
    }
    this.store.markServing();
    this.state = 'ready';
    this.logger.info(
      {
        address: this.address,
        callbackPath: this.config.skypay.path,
        financePath: this.config.skypay.financePath,
        roles: this.config.roles,
      },
      'skyrelay listening',
    );
  }

  private async startComponents(): Promise<void> {
    const { config, logger, events, components } = this;
    const store = await this.openStore();
    await components.start({
      name: 'destinations',
      start: () => undefined,
      stop: async () => {
        await Promise.allSettled([...this.destinations.values()].map((d) => d.close()));
      },
    });
    // Silences: loaded before the first callback is planned, then read again every refreshIntervalMs.
    const silences = new Silences({
      store,
      plan: this.planDeliveries,
      typeOf: (name) => config.destinations[name]?.type,
      refreshIntervalMs: config.silences.refreshIntervalMs,
      logger,
    });
    await components.start({ name: 'silences', start: () => silences.start(), stop: () => silences.stop() });
    this.silences = silences;
    // What the admin API and the dashboard do, as the CLI does it: replays wake this worker, silences apply at once.
    const operations = createOperations({
      store,
      config,
      logger,
      plan: this.planDeliveries,
      wake: () => this.worker.notify(),
      onSilencesChanged: () => silences.refresh(),
      destinationOptions: {
        timeoutMs: config.delivery.timeoutMs,
        timezone: config.skypay.timezone,
        publicUrl: config.ui.publicUrl,
        secrets: this.listSecrets(),
      },
    });
    this.operations = operations;
    const metrics = config.metrics.enabled ? await components.start(this.metricsComponent(store)) : undefined;
    await components.start(this.retentionComponent(store));
    // Payouts: the stuck check, one process of the cluster at a time.
    const stuck = new StuckWatcher(
      { store, plan: this.routedPlan, logger, onRaised: () => this.worker.notify() },
      { waits: resolveStuckWaits(config.payouts), checkIntervalMs: config.payouts.checkIntervalMs },
    );
    await components.start({ name: 'stuck payouts', start: () => stuck.start(), stop: () => stuck.stop() });
    // The daily ledger summary: when ledger.dailyAt is set, one process of the cluster, once a day.
    const compute = (day: string) => operations.ledger.compute({ day });
    const onRaised = () => this.opened?.worker.notify();
    const daily = createLedgerDaily(
      { store, compute, plan: this.routedPlan, logger, onRaised, now: this.options.clock },
      { ...config.ledger, timezone: config.skypay.timezone },
    );
    if (daily) this.ledgerDaily = await components.start(daily);
    // Reconciliation with SkyPay's status query: only when skypay.statusQuery.url is set.
    const reconciler = createReconciler(
      config,
      store,
      createPayoutPolicy(this.routedPlan, undefined, confirmationOptions(config)),
      logger,
      {
        onStored: (event, outcome, deliveries) => {
          if (!outcome.duplicate && deliveries > 0) this.opened?.worker.notify();
          if (event.source === 'skypay') events.emit('event.stored', { event, outcome, deliveries: [] });
        },
        onQuery: (outcome) => events.emit('status.query', { outcome }),
        onResult: (outcome, anomaly) => events.emit('payout.reconciled', { outcome, anomaly }),
      },
    );
    if (reconciler) await components.start(reconciler);
    // Alerts only when some rule asks for skyrelay's own events: otherwise nothing would carry them.
    if (this.planner.routesSystemEvents) await components.start(this.alertsComponent(store));
    if (config.admin.token) await components.start(this.dashboardComponent(store, operations, config.admin.token));
    const worker = new DeliveryWorker(
      {
        store,
        destinations: this.destinations,
        destinationLimits: destinationLimits(config),
        minIntervals: resolveMinIntervals(config.destinations),
        logger,
        secrets: this.listSecrets(),
        onAttempt: (report) => events.emit('delivery.attempt', report),
      },
      config.delivery,
    );
    this.opened = { store, worker };
    await components.start(this.workerComponent(store, worker));
    // Grouping: closes group windows into messages the worker then sends; only where the worker sends.
    if (config.roles.includes('delivery')) {
      const flusher = new GroupFlusher({
        store,
        groupings: resolveGroupings(config.destinations),
        logger,
        onFlushed: () => worker.notify(),
      });
      await components.start({ name: 'group flusher', start: () => flusher.start(), stop: () => flusher.stop() });
    }
    const keeper = await components.start(this.rejectionKeeperComponent(store));
    const callbacks = config.roles.includes('ingest') ? this.callbackRoute(store, keeper.keeper) : undefined;
    // skypay.financePath: the same pipeline and answers, taking only financeNotification.
    const financePath = config.skypay.financePath;
    const financeCallbacks =
      callbacks && financePath !== undefined
        ? { ...callbacks, path: financePath, receive: { ...callbacks.receive, financeOnly: true } }
        : undefined;
    const app = createApp({
      trustProxy: config.server.trustProxy,
      proxyHops: config.server.proxyHops,
      logger,
      ...(callbacks ? { callbacks } : {}),
      ...(financeCallbacks ? { financeCallbacks } : {}),
      readiness: {
        lifecycle: () => this.state,
        lastWriteFailure: () => store.lastWriteFailure,
        probeWrite: () => store.probeWrite(),
        databaseLost: () => store.lostReason,
      },
      health: store,
      guards: this.operationsGuards(metrics),
      routers: [...this.operationsRouters(store, metrics), ...(this.options.routers ?? [])],
    });
    await components.start({
      name: 'http server',
      start: async () => {
        this.server = await listen(app, config.server.host, config.server.port, {
          maxConnections: config.server.maxConnections,
        });
      },
      stop: () => this.server?.close(config.server.shutdownTimeoutMs),
    });
  }

  /** Opens the configured store (migrating it); it is the first component, so it closes last. */
  private async openStore(): Promise<Store> {
    const { config, logger } = this;
    let store: Store | undefined;
    await this.components.start({
      name: 'store',
      start: async () => {
        const onLost = (reason: string) => this.onDatabaseLost(reason);
        store = await openStore({ ...storeOptionsOf(config), onLost }, logger);
      },
      stop: () => store?.close(),
    });
    if (!store) throw new Error('store did not open');
    return store;
  }

  private metricsComponent(store: Store): Metrics & { name: string } {
    const { config, events } = this;
    const metrics = createMetrics({
      store,
      destinations: Object.keys(config.destinations),
      publishIntervalMs: config.metrics.publishIntervalMs,
      path: config.metrics.path,
      token: config.metrics.token,
      gate: this.authGate,
      logger: this.logger,
    });
    events.on('callback.outcome', ({ outcome, ms }) => metrics.recordOutcome(outcome, ms));
    events.on('delivery.attempt', (report) => metrics.recordAttempt(report));
    // What a callback raised in its transaction, by the anomaly's kind (after-final, conflict, same-time).
    events.on('event.stored', ({ outcome }) => {
      for (const raised of outcome.raised ?? []) {
        const kind = raised.data['kind'];
        if (raised.type === 'payout.anomaly' && isPayoutAnomalyKind(kind)) metrics.recordPayoutAnomaly(kind);
      }
    });
    events.on('status.query', ({ outcome }) => metrics.recordStatusQuery(outcome));
    events.on('auth.refused', ({ surface, outcome }) => metrics.recordAuthRefusal(surface, outcome));
    events.on('payout.reconciled', ({ anomaly }) => {
      if (anomaly !== undefined) metrics.recordPayoutAnomaly(anomaly);
    });
    return { name: 'metrics', ...metrics };
  }

  /** The dashboard: only with admin.token, whose holder signs in with it. */
  private dashboardComponent(store: Store, operations: Operations, token: string): Dashboard & { name: string } {
    const { config, events } = this;
    const dashboard = new Dashboard({
      token,
      operations,
      destinations: config.destinations,
      readiness: () => {
        const reason = this.state !== 'ready' ? this.state : (store.lostReason ?? store.lastWriteFailure ?? undefined);
        return { ready: reason === undefined, reason };
      },
      logger: this.logger,
      trustProxy: config.server.trustProxy,
      sessionHours: config.ui.sessionHours,
      timezone: config.skypay.timezone,
      // Payouts and silences pages.
      stuckWaits: resolveStuckWaits(config.payouts),
      gate: this.authGate,
    });
    events.on('callback.outcome', ({ outcome }) => dashboard.recordOutcome(outcome));
    this.dashboard = dashboard;
    return Object.assign(dashboard, { name: 'dashboard' });
  }

  private retentionComponent(store: Store) {
    const { store: s } = this.config;
    let job: ReturnType<typeof startRetentionJob> | undefined;
    return {
      name: 'retention',
      start: () => {
        job = startRetentionJob(
          store,
          {
            retentionDays: s.retentionDays,
            rejectionRetentionDays: s.rejectionRetentionDays,
            dedupRetentionDays: s.dedupRetentionDays,
            intervalMs: s.retentionIntervalMs,
            batchSize: s.retentionBatchSize,
          },
          this.logger,
        );
      },
      stop: () => job?.stop(),
    };
  }

  private alertsComponent(store: Store): Alerts & { name: string } {
    const { events } = this;
    const alerts = createAlerts({
      store,
      plan: this.routedPlan,
      secrets: this.listSecrets(),
      rejectionWindowMs: this.config.alerts.rejectionWindowMs,
      logger: this.logger,
      onStored: () => this.worker.notify(),
    });
    events.on('callback.rejection', (rejection) => alerts.onRejected(rejection));
    events.on('delivery.attempt', (report) => alerts.onAttempt(report));
    events.on('event.stored', ({ event, outcome }) => {
      if (outcome.conflict && event.source === 'skypay') alerts.onStored(event, outcome);
    });
    events.on('store.lost', ({ reason }) => alerts.onDatabaseLost(reason, this.config.store.path));
    return { name: 'alerts', ...alerts };
  }

  private workerComponent(store: Store, worker: DeliveryWorker) {
    const { config, events } = this;
    const unsubscribe: Array<() => void> = [];
    return {
      name: 'delivery worker',
      start: () => {
        // Without the delivery role deliveries are written for other instances to send; the worker stays idle.
        if (!config.roles.includes('delivery')) return;
        unsubscribe.push(
          events.on('event.stored', ({ event, outcome, deliveries }) => {
            worker.takeLeased(event, outcome, deliveries);
            if (!outcome.duplicate && deliveries.length > (outcome.leased?.length ?? 0)) worker.notify();
          }),
          // PostgreSQL tells of work other hosts wrote; SQLite never calls it (the worker polls).
          store.onNewWork(() => worker.notify()),
        );
        worker.start();
      },
      stop: async () => {
        for (const off of unsubscribe) off();
        await worker.stop();
      },
    };
  }

  private rejectionKeeperComponent(store: Store) {
    let keeper: RejectionKeeper | undefined;
    return {
      name: 'rejection keeper',
      get keeper(): RejectionKeeper {
        if (!keeper) throw new Error('rejection keeper is not started');
        return keeper;
      },
      start: () => {
        keeper = startRejectionKeeper({
          store,
          logger: this.logger,
          perMinute: this.config.store.maxRejectionsPerMinute,
          totalPerMinute: this.config.store.maxRejectionsPerMinuteTotal,
        });
      },
      stop: () => keeper?.stop(),
    };
  }

  /**
   * The callback route. Without the ingest role it is not mounted: its path answers 404 like any unknown path (see
   * README, "Running on several hosts"), so a load balancer sending callbacks here shows as misrouted, not down.
   */
  private callbackRoute(store: Store, keeper: RejectionKeeper): CallbackRouteDeps {
    const { config, events } = this;
    const offsetMinutes = parseOffsetMinutes(config.skypay.timezone);
    const tokens = [config.admin.token, config.metrics.token].filter((t): t is string => t !== undefined);
    return {
      path: config.skypay.path,
      bodyLimit: config.server.bodyLimit,
      receive: {
        partners: preparePartners(config.skypay.partners),
        callbackStruct: createCallbackStruct(offsetMinutes),
        offsetMinutes,
        bodyLimits: {
          limitBytes: parseSize(config.server.bodyLimit),
          timeoutMs: config.server.bodyTimeoutMs,
          budget: new BodyBudget(parseSize(config.server.maxBodyMemory)),
        },
        dealTimeWindow: {
          maxAgeDays: config.skypay.maxAgeDays,
          maxFutureMinutes: config.skypay.maxFutureMinutes,
        },
        store,
        plan: this.routedPlan,
        payoutPolicy: createPayoutPolicy(this.routedPlan, undefined, confirmationOptions(config)),
        // Leased at ingest: sent from memory; only what did not fit is claimed.
        ...(config.roles.includes('delivery') ? { lease: () => this.worker.leaseForIngest() } : {}),
        onStored: (event, outcome, deliveries) => events.emit('event.stored', { event, outcome, deliveries }),
      },
      answer: {
        store,
        logger: this.logger,
        offsetMinutes,
        secrets: [...listPartnerSecrets(config.skypay.partners), ...tokens],
        keep: (rejection) => keeper.keep(rejection),
        onRejected: (rejection) => events.emit('callback.rejection', rejection),
        onOutcome: (outcome, ms) => events.emit('callback.outcome', { outcome, ms }),
      },
    };
  }

  /** Stop accepting, finish requests and sends in flight, close the database: each step on its own. */
  private async drain(): Promise<void> {
    this.state = 'draining';
    await this.components.stop();
    this.state = 'stopped';
    this.logger.info('skyrelay stopped');
  }

  /** Every configured secret: partner keys, admin and metrics tokens, destinations' credentials and URL parts. */
  private listSecrets(): string[] {
    return secretsOfConfig(this.config);
  }

  private operationsGuards(metrics: Metrics | undefined): Koa.Middleware[] {
    const token = this.config.admin.token;
    const { metrics: m } = this.config;
    return [
      refuseAmbiguousSeparators([ADMIN_PREFIX, UI_PREFIX, ...(m.enabled ? [m.path] : [])]),
      ...(metrics?.guards ?? []),
      ...(token ? [guardAdmin({ token, logger: this.logger, gate: this.authGate })] : []),
      ...(this.dashboard ? [this.dashboard.guard] : []),
    ];
  }

  /**
   * Once per process: callbacks already get 503 (the store rejects them).
   * The worker keeps sending from the open handle what was acknowledged
   * before, and the alert is written there too so it goes out the same way.
   */
  private onDatabaseLost(reason: string): void {
    this.logger.error(
      { path: this.config.store.path, reason },
      'database file was removed or replaced: callbacks are refused with 503 until skyrelay is restarted on a real file',
    );
    this.events.emit('store.lost', { reason });
  }

  private operationsRouters(store: Store, metrics: Metrics | undefined): Router[] {
    const routers = metrics ? [metrics.router] : [];
    if (this.dashboard) routers.push(this.dashboard.router);
    const token = this.config.admin.token;
    if (token && this.operations) {
      routers.push(createAdminRouter({ token, operations: this.operations, via: `admin token ${fingerprint(token)}` }));
    }
    return routers;
  }
}

/** Each destination's own maxInFlight, where it sets one; the worker's default covers the rest. */
function destinationLimits(config: Config): Map<string, number> {
  const limits = new Map<string, number>();
  for (const [name, d] of Object.entries(config.destinations)) if (d.maxInFlight) limits.set(name, d.maxInFlight);
  return limits;
}
