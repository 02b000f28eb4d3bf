import type Router from '@koa/router';
import type Koa from 'koa';
import type { CallbackOutcome } from '../ingest/answer';
import { createDashboardRouter, createOpenDashboardRouter, guardDashboard, type DashboardDeps } from './router';
import { SessionKeys } from './session';
import { CallbackTallies } from './tally';

export type { DashboardDeps } from './router';
export type { Readiness } from './pages/overview';

/**
 * The ops dashboard at /ui: a guard that runs before routing, its pages, and the per-minute callback
 * counts its chart draws, saved in the background. start() and stop() are the counts'; a second stop() returns
 * the first's promise.
 */
export class Dashboard {
  readonly guard: Koa.Middleware;
  readonly router: Router;
  private readonly tallies: CallbackTallies;

  constructor(deps: DashboardDeps) {
    const keys = new SessionKeys(deps.token);
    this.guard = guardDashboard(deps, keys, createOpenDashboardRouter(deps, keys));
    this.router = createDashboardRouter(deps, keys);
    this.tallies = new CallbackTallies(deps.store, deps.logger);
  }

  /** Told of every callback's outcome, like the metrics. */
  recordOutcome(outcome: CallbackOutcome): void {
    this.tallies.record(outcome);
  }

  start(): void {
    this.tallies.start();
  }

  stop(): Promise<void> {
    return this.tallies.stop();
  }
}
