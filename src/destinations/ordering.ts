import type { OrderedOnDead } from '../delivery/types';
import { DEFAULT_ORDERED_ON_DEAD, type DestinationsConfig } from './schema';

/**
 * The destinations that receive each payout's events in order (`"ordered": true`, webhooks only), with what a dead
 * delivery does to the payout's later events there (`orderedOnDead`, default "continue").
 */
export function resolveOrdering(destinations: DestinationsConfig): Map<string, OrderedOnDead> {
  const ordering = new Map<string, OrderedOnDead>();
  for (const [name, d] of Object.entries(destinations)) {
    if (d.type !== 'webhook' || d.ordered !== true) continue;
    ordering.set(name, d.orderedOnDead ?? DEFAULT_ORDERED_ON_DEAD);
  }
  return ordering;
}
