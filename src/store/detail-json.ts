import { stringifyEvent, stringifyWith } from '../event-json';
import type { EventDetail, PayoutDetail } from './types';

/** JSON of an event's detail with extra fields as SkyPay sent them (JSON.stringify would round long numbers). */
export function stringifyEventDetail(d: EventDetail): string {
  const conflicts = d.conflicts.map((c) => stringifyWith(c, { copy: stringifyEvent(c.copy) }));
  return stringifyWith(d, { event: stringifyEvent(d.event), conflicts: `[${conflicts.join(',')}]` });
}

/** A payout with its events, each as stringifyEventDetail writes it. */
export function stringifyPayoutDetail(d: PayoutDetail): string {
  return stringifyWith(d, { events: `[${d.events.map(stringifyEventDetail).join(',')}]` });
}
