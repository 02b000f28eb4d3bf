import type Router from '@koa/router';
import type Database from 'better-sqlite3';
import type { AttemptReport } from '../delivery/worker';
import type { CallbackOutcome } from '../http/refusals';
import type { Logger } from '../log';
import { ProcessMetrics } from './collect';
import { MetricsPublisher } from './publisher';
import { createMetricsRouter } from './router';

export interface MetricsDeps {
  db: Database.Database;
  destinations: readonly string[];
  publishIntervalMs: number;
  logger: Logger;
}

/** Prometheus metrics: recording hooks for the daemon, the /metrics route, and the publisher's lifecycle. */
export function createMetrics(deps: MetricsDeps) {
  const metrics = new ProcessMetrics();
  const publisher = new MetricsPublisher(deps.db, metrics, { intervalMs: deps.publishIntervalMs }, deps.logger);
  const router: Router = createMetricsRouter({ ...deps, metrics, publisher });
  return {
    router,
    recordOutcome: (outcome: CallbackOutcome, ms: number) => metrics.recordOutcome(outcome, ms),
    recordAttempt: (report: AttemptReport) => metrics.recordAttempt(report),
    start: () => publisher.start(),
    stop: () => publisher.stop(),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
