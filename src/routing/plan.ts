import type { RelayEvent } from '../event';
import { createId } from '../ids';
import type { NewDelivery } from '../delivery/types';
import { compileRules, routeEvent, type CompiledRule, type Route } from './match';
import type { RuleConfig } from './schema';

/** Turns an event into the deliveries the rules choose, each with a fresh id. */
export type Plan = (event: RelayEvent) => NewDelivery[];

export interface Planner {
  plan: Plan;
  /** Whether any rule takes skyrelay's own events: without one, alerts have nowhere to go. */
  readonly routesSystemEvents: boolean;
}

/**
 * The one planner: the daemon (callbacks), alerts and replays (admin API
 * and CLI) all plan with it, so an event goes where the rules say whoever
 * asks. Rules are compiled once here.
 */
export function createPlanner(rules: readonly RuleConfig[]): Planner {
  const compiled = compileRules(rules);
  return {
    plan: (event) =>
      planRoutes(event, compiled).map((r) => ({ id: createId('dlv'), destination: r.destination, rules: r.rules })),
    routesSystemEvents: compiled.some((r) => r.receivesSystemEvents),
  };
}

/** routeEvent under the system-events policy (see namesSystemEvents in match.ts). */
export function planRoutes(event: RelayEvent, compiledRules: readonly CompiledRule[]): Route[] {
  return routeEvent(
    event,
    event.source === 'skyrelay' ? compiledRules.filter((r) => r.receivesSystemEvents) : compiledRules,
  );
}
