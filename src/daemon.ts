import type Router from '@koa/router';
import type Koa from 'koa';
import { createAdminRouter, guardAdmin } from './admin/router';
import { createAlerts, type Alerts } from './alerts';
import { createApp } from './app';
import type { Config } from './config/schema';
import { createDestinations } from './destinations';
import { collectSecrets, secretsOfDestinations } from './destinations/secrets';
import type { Destination } from './destinations/types';
import { DeliveryWorker, type AttemptReport } from './delivery/worker';
import type { Lifecycle } from './http/health';
import type { CallbackRouteDeps } from './ingest/route';
import { startRejectionKeeper, type RejectionKeeper } from './ingest/rejection-keeper';
import { BodyBudget, parseSize } from './ingest/body';
import { listen, type RunningServer } from './http/server';
import { createMetrics, type Metrics } from './metrics';
import type { NewRejection } from './store/types';
import type { Logger } from './log';
import { createPlanner, type Plan, type Planner } from './routing/plan';
import { listPartnerSecrets, preparePartners } from './skypay/partners';
import { parseOffsetMinutes } from './skypay/time';
import { createCallbackStruct } from './skypay/validate';
import { openStore, type Store } from './store';
import { startRetentionJob } from './store/retention';
import type { CallbackOutcome } from './ingest/answer';

export interface DaemonHooks {
  onOutcome?: (outcome: CallbackOutcome, ms: number) => void;
  onRejected?: (rejection: NewRejection) => void;
  onAttempt?: (report: AttemptReport) => void;
  routers?: Router[];
}

/**
 * The whole daemon: store, HTTP ingest and the delivery worker, with one
 * start() and one stop() that drains. Everything it needs comes in through
 * the validated config; nothing here reads the environment.
 */
export class Daemon {
  private opened: { store: Store; worker: DeliveryWorker } | undefined;
  readonly destinations: Map<string, Destination>;
  /** Where every event (payouts, alerts, replays) is routed: the configured rules, compiled once. */
  readonly planDeliveries: Plan;
  private readonly planner: Planner;
  private metrics: Metrics | undefined;
  private alerts: Alerts | undefined;
  private retention: ReturnType<typeof startRetentionJob> | undefined;
  private rejectionKeeper: RejectionKeeper | undefined;
  private server: RunningServer | undefined;
  private state: Lifecycle = 'idle';

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly hooks: DaemonHooks = {},
  ) {
    this.destinations = createDestinations(config.destinations, {
      timeoutMs: config.delivery.timeoutMs,
      logger,
      timezone: config.skypay.timezone,
    });
    this.planner = createPlanner(config.rules);
    this.planDeliveries = this.planner.plan;
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

  /** Opens the configured store (migrating it) and builds what reads and writes it. */
  private async openStore(): Promise<void> {
    const { config, logger, hooks } = this;
    const store = await openStore(
      {
        path: config.store.path,
        url: config.store.url,
        poolSize: config.store.poolSize,
        busyTimeoutMs: config.store.busyTimeoutMs,
        synchronous: config.store.synchronous,
        onLost: (reason) => this.onDatabaseLost(reason),
      },
      logger,
    );
    const limits = new Map<string, number>();
    for (const [name, d] of Object.entries(config.destinations)) if (d.maxInFlight) limits.set(name, d.maxInFlight);
    this.metrics = config.metrics.enabled
      ? createMetrics({
          store,
          destinations: Object.keys(config.destinations),
          publishIntervalMs: config.metrics.publishIntervalMs,
          path: config.metrics.path,
          token: config.metrics.token,
          logger,
        })
      : undefined;
    const worker = new DeliveryWorker(
      {
        store,
        destinations: this.destinations,
        destinationLimits: limits,
        logger,
        secrets: this.listSecrets(),
        onAttempt: (report) => {
          this.metrics?.recordAttempt(report);
          this.alerts?.onAttempt(report);
          hooks.onAttempt?.(report);
        },
      },
      config.delivery,
    );
    // PostgreSQL tells of work other hosts wrote; SQLite never calls it (the worker polls).
    this.unsubscribeNewWork = store.onNewWork(() => worker.notify());
    this.opened = { store, worker };
  }

  private unsubscribeNewWork: (() => void) | undefined;

  private wakePending = false;

  /** Every configured secret: partner keys, admin and metrics tokens, destinations' credentials and URL parts. */
  private listSecrets(): string[] {
    return collectSecrets([
      ...listPartnerSecrets(this.config.skypay.partners),
      this.config.admin.token,
      this.config.metrics.token,
      ...secretsOfDestinations(this.config.destinations),
    ]);
  }

  /**
   * A group commit acknowledges many events at once; each notify() costs the
   * worker a claim transaction, so the batch wakes it once (bench, default
   * maxInFlight: 329 -> 983 acks/s).
   */
  private wakeWorker(): void {
    if (this.wakePending) return;
    this.wakePending = true;
    queueMicrotask(() => {
      this.wakePending = false;
      this.worker.notify();
    });
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  get address(): { host: string; port: number } {
    if (!this.server) throw new Error('daemon is not listening');
    return { host: this.server.address.address, port: this.server.address.port };
  }

  async start(): Promise<void> {
    this.state = 'starting';
    const offsetMinutes = parseOffsetMinutes(this.config.skypay.timezone);
    const tokens = [this.config.admin.token, this.config.metrics.token].filter((t): t is string => t !== undefined);
    const secrets = [...listPartnerSecrets(this.config.skypay.partners), ...tokens];
    await this.openStore();
    this.startOperations();
    const keeper = startRejectionKeeper({
      store: this.store,
      logger: this.logger,
      perMinute: this.config.store.maxRejectionsPerMinute,
    });
    this.rejectionKeeper = keeper;
    // Without the ingest role the callback route is not mounted: its path answers 404 like any unknown path (see
    // README, "Running on several hosts"), so a load balancer sending callbacks here shows as misrouted, not down.
    const callbacks: CallbackRouteDeps | undefined = this.config.roles.includes('ingest')
      ? {
          path: this.config.skypay.path,
          bodyLimit: this.config.server.bodyLimit,
          receive: {
            partners: preparePartners(this.config.skypay.partners),
            callbackStruct: createCallbackStruct(offsetMinutes),
            offsetMinutes,
            bodyLimits: {
              limitBytes: parseSize(this.config.server.bodyLimit),
              timeoutMs: this.config.server.bodyTimeoutMs,
              budget: new BodyBudget(parseSize(this.config.server.maxBodyMemory)),
            },
            dealTimeWindow: {
              maxAgeDays: this.config.skypay.maxAgeDays,
              maxFutureMinutes: this.config.skypay.maxFutureMinutes,
            },
            store: this.store,
            plan: this.planDeliveries,
            // Leased at ingest (issue 13): sent from memory; only what did not fit is claimed.
            ...(this.config.roles.includes('delivery') ? { lease: () => this.worker.leaseForIngest() } : {}),
            onStored: (event, outcome, deliveries) => {
              this.worker.takeLeased(event, outcome, deliveries);
              if (!outcome.duplicate && deliveries.length > (outcome.leased?.length ?? 0)) this.wakeWorker();
              if (outcome.conflict && event.source === 'skypay') this.alerts?.onStored(event, outcome);
            },
          },
          answer: {
            store: this.store,
            logger: this.logger,
            offsetMinutes,
            secrets,
            keep: (rejection) => keeper.keep(rejection),
            onRejected: (rejection) => {
              this.alerts?.onRejected(rejection);
              this.hooks.onRejected?.(rejection);
            },
            onOutcome: (outcome, ms) => {
              this.metrics?.recordOutcome(outcome, ms);
              this.hooks.onOutcome?.(outcome, ms);
            },
          },
        }
      : undefined;
    const app = createApp({
      trustProxy: this.config.server.trustProxy,
      logger: this.logger,
      ...(callbacks ? { callbacks } : {}),
      readiness: {
        lifecycle: () => this.state,
        lastWriteFailure: () => this.store.lastWriteFailure,
        probeWrite: () => this.store.probeWrite(),
        databaseLost: () => this.store.lostReason,
      },
      health: this.store,
      guards: this.operationsGuards(),
      routers: [...this.operationsRouters(), ...(this.hooks.routers ?? [])],
    });
    this.server = await listen(app, this.config.server.host, this.config.server.port, {
      maxConnections: this.config.server.maxConnections,
    });
    // Without the delivery role deliveries are written for other instances to send; the worker stays idle.
    if (this.config.roles.includes('delivery')) this.worker.start();
    this.store.markServing();
    this.state = 'ready';
    this.logger.info(
      { address: this.address, callbackPath: this.config.skypay.path, roles: this.config.roles },
      'skyrelay listening',
    );
  }

  /** Stop accepting, finish requests and sends in flight, close the database. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'draining') return;
    this.state = 'draining';
    await this.server?.close(this.config.server.shutdownTimeoutMs);
    await this.rejectionKeeper?.stop();
    this.unsubscribeNewWork?.();
    await this.opened?.worker.stop();
    // After the worker: its last attempts may raise alerts and count in metrics.
    await this.alerts?.stop();
    await this.retention?.stop();
    await this.metrics?.stop();
    await Promise.allSettled([...this.destinations.values()].map((d) => d.close()));
    await this.opened?.store.close();
    this.state = 'stopped';
    this.logger.info('skyrelay stopped');
  }

  /** Metrics publishing, retention and alerts; alerts only when some rule asks for skyrelay's own events. */
  private startOperations(): void {
    this.metrics?.start();
    const { store: s } = this.config;
    this.retention = startRetentionJob(
      this.store,
      {
        retentionDays: s.retentionDays,
        rejectionRetentionDays: s.rejectionRetentionDays,
        dedupRetentionDays: s.dedupRetentionDays,
        intervalMs: s.retentionIntervalMs,
        batchSize: s.retentionBatchSize,
      },
      this.logger,
    );
    if (!this.planner.routesSystemEvents) return;
    this.alerts = createAlerts({
      store: this.store,
      plan: this.planDeliveries,
      secrets: this.listSecrets(),
      rejectionWindowMs: this.config.alerts.rejectionWindowMs,
      logger: this.logger,
      onStored: () => this.worker.notify(),
    });
    this.alerts.start();
  }

  private operationsGuards(): Koa.Middleware[] {
    const token = this.config.admin.token;
    return [...(this.metrics?.guards ?? []), ...(token ? [guardAdmin({ token, logger: this.logger })] : [])];
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
    this.alerts?.onDatabaseLost(reason, this.config.store.path);
  }

  private operationsRouters(): Router[] {
    const routers = this.metrics ? [this.metrics.router] : [];
    const token = this.config.admin.token;
    if (token) {
      routers.push(
        createAdminRouter({
          token,
          store: this.store,
          plan: this.planDeliveries,
          onReplayed: () => this.worker.notify(),
          logger: this.logger,
        }),
      );
    }
    return routers;
  }
}
