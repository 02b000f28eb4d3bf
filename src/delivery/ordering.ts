import type { ClaimedDelivery, DeliveryNext, OrderedOnDead } from './types';

/**
 * The worker's part in ordered delivery (the rule itself is the store's: src/store/ordering.ts): whether a delivery
 * stands in its payout's line, and what its death does there.
 */

/** What a death of this delivery does to its payout's later ones; undefined when it stands in no line. */
export function orderedOnDeadOf(
  ordering: ReadonlyMap<string, OrderedOnDead> | undefined,
  delivery: ClaimedDelivery,
): OrderedOnDead | undefined {
  const event = delivery.event;
  if (event.source !== 'skypay' || event.type !== 'payout') return undefined;
  return ordering?.get(delivery.destination);
}

/** A death at a destination that holds keeps the payout's later deliveries there waiting behind it. */
export function holdIfOrdered(next: DeliveryNext, onDead: OrderedOnDead | undefined): DeliveryNext {
  return next.state === 'dead' && onDead === 'hold' ? { state: 'dead', hold: true } : next;
}
