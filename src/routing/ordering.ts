import type { Plan } from './plan';

/**
 * Wraps the planner: a payout status routed to an ordered destination is marked so (NewDelivery.ordered), and the
 * store sends it there only after the payout's earlier events. Only payout statuses have a payout's order:
 * skyrelay's own events and finance notifications go out as they come.
 */
export function withOrdering(plan: Plan, ordered: ReadonlyMap<string, unknown>): Plan {
  if (ordered.size === 0) return plan;
  return (event) => {
    const planned = plan(event);
    if (event.source !== 'skypay' || event.type !== 'payout') return planned;
    return planned.map((d) => (ordered.has(d.destination) ? { ...d, ordered: true } : d));
  };
}
