import type { Config } from '../config/schema';
import type Router from '@koa/router';
import type Koa from 'koa';
import type { AttemptReport } from '../delivery/types';
import type { CallbackOutcome } from '../ingest/types';
import { requireBearerToken } from '../http/bearer';
import type { AuthGate } from '../http/auth-gate';
import type { AuthRefusal, AuthSurface } from '../http/types';
import { guardPrefix } from '../http/path-guard';
import type { Logger } from '../log';
import type { PayoutAnomalyKind } from '../event';
import type {
  BreakerStore,
  HealthStore,
  InspectStore,
  LedgerStore,
  MetricTotalsStore,
  PayoutStore,
} from '../store/store';
import { ProcessMetrics } from './collect';
import { MetricsPublisher } from './publisher';
import { createMetricsRouter } from './router';
import type { RuntimeEvents } from '../runtime/events';
import { isPayoutAnomalyKind } from '../event';

export interface MetricsDeps {
  store: MetricTotalsStore &
    InspectStore &
    PayoutStore &
    BreakerStore &
    Pick<LedgerStore, 'readLatestLedgerDay'> &
    Pick<HealthStore, 'statements'>;
  destinations: readonly string[];
  publishIntervalMs: number;
  /** The scrape path (metrics.path). */
  path: string;
  /** metrics.token: when set, every spelling of the path needs it, checked before routing. */
  token?: string | undefined;
  /** Locks out an address that keeps presenting wrong tokens (shared with /admin and the dashboard). */
  gate?: AuthGate;
  logger: Logger;
}

/** Prometheus metrics: recording hooks for the daemon, the scrape route and its guard, the publisher's lifecycle. */
export function createMetrics(deps: MetricsDeps) {
  const metrics = new ProcessMetrics(() => deps.store.statements);
  const publisher = new MetricsPublisher(deps.store, metrics, { intervalMs: deps.publishIntervalMs }, deps.logger);
  const router: Router = createMetricsRouter({ ...deps, metrics, publisher });
  const guards: Koa.Middleware[] = deps.token
    ? [
        guardPrefix(
          deps.path,
          requireBearerToken(
            deps.token,
            { realm: 'skyrelay metrics', setting: 'metrics.token', surface: 'metrics' },
            deps.gate,
          ),
        ),
      ]
    : [];
  return {
    router,
    guards,
    recordOutcome: (outcome: CallbackOutcome, ms: number) => metrics.recordOutcome(outcome, ms),
    recordAttempt: (report: AttemptReport) => metrics.recordAttempt(report),
    recordPayoutAnomaly: (kind: PayoutAnomalyKind) => metrics.recordPayoutAnomaly(kind),
    recordStatusQuery: (outcome: string) => metrics.recordStatusQuery(outcome),
    recordAuthRefusal: (surface: AuthSurface, outcome: AuthRefusal) => metrics.recordAuthRefusal(surface, outcome),
    start: () => publisher.start(),
    stop: () => publisher.stop(),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The metrics component (with metrics.enabled): the registry and the publisher, fed by what the bus tells
 * (outcomes, attempts, anomalies); its router and token guard join the daemon's HTTP server.
 */
export function metricsComponent(deps: {
  config: Config;
  store: MetricsDeps['store'];
  events: RuntimeEvents;
  logger: Logger;
  gate?: AuthGate;
}) {
  const { metrics: m } = deps.config;
  const metrics = createMetrics({
    store: deps.store,
    destinations: Object.keys(deps.config.destinations),
    publishIntervalMs: m.publishIntervalMs,
    path: m.path,
    token: m.token,
    logger: deps.logger,
    ...(deps.gate ? { gate: deps.gate } : {}),
  });
  const off: (() => void)[] = [];
  return {
    ...metrics,
    name: 'metrics',
    path: m.path,
    start: () => {
      const { events } = deps;
      off.push(
        events.on('callback.outcome', ({ outcome, ms }) => metrics.recordOutcome(outcome, ms)),
        events.on('delivery.attempt', (report) => metrics.recordAttempt(report)),
        // What a callback raised in its transaction, by the anomaly's kind (after-final, conflict, same-time).
        events.on('event.stored', ({ outcome }) => {
          for (const raised of outcome.raised ?? []) {
            const kind = raised.data['kind'];
            if (raised.type === 'payout.anomaly' && isPayoutAnomalyKind(kind)) metrics.recordPayoutAnomaly(kind);
          }
        }),
        events.on('status.query', ({ outcome }) => metrics.recordStatusQuery(outcome)),
        events.on('auth.refused', ({ surface, outcome }) => metrics.recordAuthRefusal(surface, outcome)),
        events.on('payout.reconciled', ({ anomaly }) => {
          if (anomaly !== undefined) metrics.recordPayoutAnomaly(anomaly);
        }),
      );
      metrics.start();
    },
    stop: async () => {
      for (const unsubscribe of off.splice(0)) unsubscribe();
      await metrics.stop();
    },
  };
}
