import type Router from '@koa/router';
import type Koa from 'koa';
import type { AttemptReport } from '../delivery/worker';
import type { CallbackOutcome } from '../ingest/answer';
import { requireBearerToken } from '../http/bearer';
import type { AuthGate, AuthRefusal, AuthSurface } from '../http/auth-gate';
import { guardPrefix } from '../http/path-guard';
import type { Logger } from '../log';
import type { PayoutAnomalyKind } from '../event';
import type { HealthStore, InspectStore, LedgerStore, MetricTotalsStore, PayoutStore } from '../store/store';
import { ProcessMetrics } from './collect';
import { MetricsPublisher } from './publisher';
import { createMetricsRouter } from './router';

export interface MetricsDeps {
  store: MetricTotalsStore &
    InspectStore &
    PayoutStore &
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
