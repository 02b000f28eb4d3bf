import type Router from '@koa/router';
import { createApp } from './app';
import type { Config } from './config/schema';
import { createDestinations } from './destinations';
import type { Destination } from './destinations/types';
import { DeliveryWorker, type AttemptReport } from './delivery/worker';
import type { RelayEvent } from './event';
import { listen, type RunningServer } from './http/server';
import type { NewRejection } from './store/types';
import { createId } from './ids';
import type { Logger } from './log';
import { compileRules, routeEvent } from './routing/match';
import { listPartnerSecrets, preparePartners } from './skypay/partners';
import { parseOffsetMinutes } from './skypay/time';
import { createCallbackStruct } from './skypay/validate';
import { SqliteStore } from './store/sqlite-store';
import type { CallbackOutcome } from './http/refusals';

export interface DaemonHooks {
  onOutcome?: (outcome: CallbackOutcome, ms: number) => void;
  onRefused?: (rejection: NewRejection) => void;
  onAttempt?: (report: AttemptReport) => void;
  routers?: Router[];
}

/**
 * The whole daemon: store, HTTP ingest and the delivery worker, with one
 * start() and one stop() that drains. Everything it needs comes in through
 * the validated config; nothing here reads the environment.
 */
export class Daemon {
  readonly store: SqliteStore;
  readonly worker: DeliveryWorker;
  readonly destinations: Map<string, Destination>;
  private server: RunningServer | undefined;
  private state: 'idle' | 'starting' | 'ready' | 'draining' | 'stopped' = 'idle';

  constructor(private readonly config: Config, private readonly logger: Logger, private readonly hooks: DaemonHooks = {}) {
    this.store = new SqliteStore({
      path: config.store.path, busyTimeoutMs: config.store.busyTimeoutMs, synchronous: config.store.synchronous,
    });
    this.destinations = createDestinations(config.destinations, { timeoutMs: config.delivery.timeoutMs, logger });
    const limits = new Map<string, number>();
    for (const [name, d] of Object.entries(config.destinations)) if (d.maxInFlight) limits.set(name, d.maxInFlight);
    this.worker = new DeliveryWorker(
      { store: this.store, destinations: this.destinations, destinationLimits: limits, logger,
        ...(hooks.onAttempt ? { onAttempt: hooks.onAttempt } : {}) },
      config.delivery,
    );
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
    const rules = compileRules(this.config.rules);
    const planDeliveries = (event: RelayEvent) =>
      routeEvent(event, rules).map((r) => ({ id: createId('dlv'), destination: r.destination, rules: r.rules }));
    const secrets = [...listPartnerSecrets(this.config.skypay.partners), ...(this.config.admin.token ? [this.config.admin.token] : [])];
    const app = createApp({
      callbackPath: this.config.skypay.path,
      bodyLimit: this.config.server.bodyLimit,
      trustProxy: this.config.server.trustProxy,
      receive: {
        partners: preparePartners(this.config.skypay.partners),
        callbackStruct: createCallbackStruct(offsetMinutes),
        offsetMinutes,
        store: this.store,
        planDeliveries,
        onStored: (_event, outcome, deliveries) => {
          if (!outcome.duplicate && deliveries.length > 0) this.worker.notify();
        },
      },
      refusals: {
        store: this.store, logger: this.logger, offsetMinutes, secrets,
        ...(this.hooks.onRefused ? { onRefused: this.hooks.onRefused } : {}),
        ...(this.hooks.onOutcome ? { onOutcome: this.hooks.onOutcome } : {}),
      },
      ...(this.hooks.routers ? { routers: this.hooks.routers } : {}),
    });
    this.server = await listen(app, this.config.server.host, this.config.server.port);
    this.worker.start();
    this.state = 'ready';
    this.logger.info({ address: this.address, callbackPath: this.config.skypay.path }, 'skyrelay listening');
  }

  /** Stop accepting, finish requests and sends in flight, close the database. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'draining') return;
    this.state = 'draining';
    await this.server?.close(this.config.server.shutdownTimeoutMs);
    await this.worker.stop();
    await Promise.allSettled([...this.destinations.values()].map((d) => d.close()));
    await this.store.close();
    this.state = 'stopped';
    this.logger.info('skyrelay stopped');
  }
}
