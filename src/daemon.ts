import type Router from '@koa/router';
import { adminFront } from './admin/router';
import { alertsComponent } from './alerts';
import { groupFlusherComponent } from './alerts/grouping/flusher';
import { silencesComponent } from './alerts/silences';
import { createApp, mountFronts } from './app';
import { listConfigWarnings } from './config/load';
import type { Config } from './config/schema';
import { workerComponent } from './delivery/component';
import type { DeliveryWorker } from './delivery/worker';
import { destinationsComponent, destinationsOf } from './destinations';
import { secretsOfConfig } from './destinations/secrets';
import type { Destination } from './destinations/types';
import { authGateOf, type AuthGate } from './http/auth-gate';
import { describeReadiness, storeReadiness, type Lifecycle } from './http/health';
import { httpServerComponent, type RunningServer } from './http/server';
import { ledgerDailyComponent, type LedgerDaily } from './ledger/daily';
import { callbackRoutes } from './ingest/component';
import { rejectionKeeperComponent } from './ingest/rejection-keeper';
import type { Logger } from './log';
import { metricsComponent } from './metrics';
import { createOperations, storeOptionsOf } from './operations';
import { reconcilerComponent, stuckComponent } from './payouts/component';
import { retentionComponent } from './retention/retention';
import { resolveGroupings, withGrouping } from './routing/group';
import { withOrdering } from './routing/ordering';
import { resolveOrdering } from './destinations/ordering';
import { createPlanner, type Plan } from './routing/plan';
import { Components, once, type Component } from './runtime/components';
import { RuntimeEvents } from './runtime/events';
import { storeComponent, type Store } from './store';
import { dashboardComponent } from './ui';

export interface DaemonOptions {
  /** Extra routers mounted after the built-in ones, behind the same guards (embedding, tests). */
  routers?: Router[];
  /** The clock the daily ledger tells the days by (tests move it to the next day); Date.now otherwise. */
  clock?: () => number;
}

/**
 * The daemon: its features as components, started in the order listed and stopped in reverse (docs/architecture.md),
 * sharing ports built first: the store, the typed bus `events`, the routing plan, and wake() for the worker.
 */
export class Daemon {
  readonly events: RuntimeEvents;
  readonly destinations: Map<string, Destination>;
  /** Where every event (payouts, alerts, replays) is routed: the configured rules, compiled once. */
  readonly planDeliveries: Plan;
  readonly stop: () => Promise<void>;
  /** The daily ledger summary, when ledger.dailyAt is set: its check can be run now (tests, embedding). */
  ledgerDaily: LedgerDaily | undefined;
  private readonly components: Components;
  private readonly authGate: AuthGate;
  private opened: { store: Store; worker: DeliveryWorker } | undefined;
  private server: RunningServer | undefined;
  private state: Lifecycle = 'idle';

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly options: DaemonOptions = {},
  ) {
    this.events = new RuntimeEvents(logger);
    this.components = new Components(logger);
    this.destinations = destinationsOf(config, logger);
    // Grouping destinations: payouts routed there join their group instead of getting a delivery each.
    // Ordered destinations: a payout's statuses are marked to go there one at a time, in order.
    this.planDeliveries = withOrdering(
      withGrouping(createPlanner(config.rules).plan, resolveGroupings(config.destinations)),
      resolveOrdering(config.destinations),
    );
    this.authGate = authGateOf(config.server.authThrottle, logger, this.events);
    this.stop = once(async () => {
      this.state = 'draining';
      await this.components.stop();
      this.state = 'stopped';
      this.logger.info('skyrelay stopped');
    });
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

  get address(): { host: string; port: number } {
    if (!this.server) throw new Error('daemon is not listening');
    return { host: this.server.address.address, port: this.server.address.port };
  }

  /** Starts every component in order; if one fails, those already started are stopped and the error is thrown. */
  async start(): Promise<void> {
    this.state = 'starting';
    for (const warning of listConfigWarnings(this.config)) this.logger.warn({ warning }, 'configuration warning');
    try {
      await this.startFeatures();
    } catch (err) {
      this.state = 'draining';
      await this.components.stop();
      this.state = 'stopped';
      throw err;
    }
    this.store.markServing();
    this.state = 'ready';
    const { path: callbackPath, financePath } = this.config.skypay;
    const listening = { address: this.address, callbackPath, financePath, roles: this.config.roles };
    this.logger.info(listening, 'skyrelay listening');
  }

  private async startFeatures(): Promise<void> {
    const { config, logger, events, authGate: gate } = this;
    const add = <C extends Component>(c: C): Promise<C> => this.components.start(c);
    const addIf = async <C extends Component>(c: C | undefined): Promise<C | undefined> => c && add(c);
    const onLost = (reason: string): void => events.emit('store.lost', { reason });
    const { store } = await add(storeComponent({ ...storeOptionsOf(config), onLost }, logger));
    const secrets = secretsOfConfig(config);
    const wake = (): void => this.opened?.worker.notify();
    await add(destinationsComponent(this.destinations));
    const silences = await add(silencesComponent({ config, store, plan: this.planDeliveries, logger }));
    const features = { config, store, plan: silences.plan, events, logger, wake, secrets, gate };
    const onSilencesChanged = silences.refresh;
    const operations = createOperations({ ...features, plan: this.planDeliveries, onSilencesChanged });
    const metrics = config.metrics.enabled ? await add(metricsComponent(features)) : undefined;
    await add(retentionComponent(features));
    await add(stuckComponent(features));
    this.ledgerDaily = await addIf(ledgerDailyComponent({ ...features, operations, now: this.options.clock }));
    await addIf(reconcilerComponent(features));
    await addIf(alertsComponent(features));
    const token = config.admin.token;
    const readiness = () => describeReadiness(this.state, this.opened?.store);
    const dashboard = token ? await add(dashboardComponent({ ...features, token, operations, readiness })) : undefined;
    const sender = await add(workerComponent({ ...features, destinations: this.destinations }));
    this.opened = { store, worker: sender.worker };
    await addIf(groupFlusherComponent(features));
    const keeper = await add(rejectionKeeperComponent(features));
    const app = createApp({
      ...config.server,
      logger,
      callbacks: callbackRoutes({ ...features, lease: sender.lease, keep: keeper.keep }),
      health: store,
      readiness: storeReadiness(store, () => this.state),
      ...mountFronts(
        { metrics, dashboard, admin: adminFront(token, operations, gate), extra: this.options.routers },
        logger,
      ),
    });
    await add(httpServerComponent(app, config.server, (server) => (this.server = server)));
  }
}
