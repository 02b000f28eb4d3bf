import type { Config } from '../config/schema';
import { resolveStuckWaits } from '../payouts/stuck-after';
import type Router from '@koa/router';
import type Koa from 'koa';
import type { CallbackOutcome } from '../ingest/types';
import { createDashboardRouter, createOpenDashboardRouter, guardDashboard, type DashboardDeps } from './router';
import { SessionKeys } from './session';
import { CallbackTallies } from './tally';
import type { RuntimeEvents } from '../runtime/events';

export type { DashboardDeps } from './router';
export type { Readiness } from './respond';

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
    this.tallies = new CallbackTallies(deps.operations.dashboard, deps.logger);
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

/** The dashboard component, counting every callback's outcome for its chart: only with admin.token. */
export function dashboardComponent(
  deps: Pick<DashboardDeps, 'token' | 'operations' | 'readiness' | 'logger' | 'gate'> & {
    config: Config;
    events: RuntimeEvents;
  },
) {
  const { config } = deps;
  const dashboard = new Dashboard({
    ...deps,
    destinations: config.destinations,
    trustProxy: config.server.trustProxy,
    sessionHours: config.ui.sessionHours,
    timezone: config.skypay.timezone,
    // The stuck view and count call stuck what the stuck check would.
    stuckWaits: resolveStuckWaits(config.payouts),
  });
  let off: (() => void) | undefined;
  return {
    name: 'dashboard',
    guard: dashboard.guard,
    router: dashboard.router,
    start: () => {
      off = deps.events.on('callback.outcome', ({ outcome }) => dashboard.recordOutcome(outcome));
      dashboard.start();
    },
    stop: () => {
      off?.();
      return dashboard.stop();
    },
  };
}
