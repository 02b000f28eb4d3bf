import type { RelayEvent } from '../event';
import { stringifyEvent } from '../event-json';
import { eventColumns } from './rows';
import { notifyWork, rows, type Dialect, type RowSource, type Script } from './sql';
import type { NewDelivery } from '../delivery/types';
import { isOrderedRoute, type LinePlace } from '../delivery/decisions';
import { originOf } from '../ledger/decisions';

/** Kept here for src/store/ingest.ts, which imports it from this module. */

/**
 * Writing events and their routes: what every transaction that makes an event shares (a callback, a payout's
 * anomaly, a stuck payout, a group's message, a replay's new deliveries). Set-based: one statement per table for a
 * whole batch of events.
 */

/** An event to store with the routes its rules chose. */
export interface EventInsert {
  event: RelayEvent;
  /** When it arrived (ms epoch): its received_ms, and when its deliveries are first due. */
  receivedMs: number;
  routes: readonly NewDelivery[];
  /** Deliveries written in flight to this lease (first attempt counted) instead of pending: the ingest hand-off. */
  leased?: { owner: string; untilMs: number; ids: ReadonlySet<string> } | undefined;
  /** The event's place in its payout's order: its ordered routes stand in line there (src/store/ordering.ts). */
  place?: LinePlace | undefined;
}

const EVENT_COLUMNS: RowSource['columns'] = [
  ['id', 'text'],
  ['source', 'text'],
  ['type', 'text'],
  ['partner', 'text'],
  ['control_number', 'text'],
  ['pay_type', 'int'],
  ['status', 'text'],
  ['deal_time', 'text'],
  ['body', 'text'],
  ['received_ms', 'bigint'],
  ['origin', 'text'],
  ['routes', 'int'],
];

const DELIVERY_COLUMNS: RowSource['columns'] = [
  ['id', 'text'],
  ['event_id', 'text'],
  ['destination', 'text'],
  ['rules', 'text'],
  ['state', 'text'],
  ['attempts', 'int'],
  ['next_ms', 'bigint'],
  ['lease_owner', 'text'],
  ['lease_until_ms', 'bigint'],
  ['created_ms', 'bigint'],
  ['updated_ms', 'bigint'],
  ['replays', 'int'],
  ['payout_key', 'text'],
  ['payout_seq', 'bigint'],
];

const MEMBER_COLUMNS: RowSource['columns'] = [
  ['event_id', 'text'],
  ['destination', 'text'],
  ['group_key', 'text'],
  ['rules', 'text'],
  ['created_ms', 'bigint'],
];

const SILENCED_COLUMNS: RowSource['columns'] = [
  ['event_id', 'text'],
  ['destination', 'text'],
  ['silence_id', 'text'],
  ['rules', 'text'],
];

/** Stores the events, then their routes. Resolves whether pending work was written (others' workers are told). */
export function* insertEvents(d: Dialect, inserts: readonly EventInsert[], now: number): Script<boolean> {
  yield* rows(
    `INSERT INTO events (id, source, type, partner, control_number, pay_type, status, deal_time, body, received_ms,
       origin, routes)
     SELECT r.id, r.source, r.type, r.partner, r.control_number, r.pay_type, r.status, r.deal_time, r.body,
       r.received_ms, r.origin, r.routes FROM :rows AS r`,
    {
      columns: EVENT_COLUMNS,
      rows: inserts.map(({ event, receivedMs, routes }) => [
        event.id,
        event.source,
        event.type,
        ...eventColumns(event),
        stringifyEvent(event),
        receivedMs,
        originOf(event),
        // What the ledger holds the event's route rows to: a delivery or member that goes missing shows.
        routes.length,
      ]),
    },
  );
  return yield* insertRoutes(
    d,
    inserts.map((i) => ({ eventId: i.event.id, ms: i.receivedMs, routes: i.routes, leased: i.leased, place: i.place })),
    now,
  );
}

/**
 * Routes of events already stored (or stored just before in the same transaction): a delivery each, a member row
 * for a destination that groups (its group's message carries the event), or a record that a silence held it back.
 * Resolves whether any delivery was written pending.
 */
export function* insertRoutes(
  d: Dialect,
  entries: readonly {
    eventId: string;
    ms: number;
    routes: readonly NewDelivery[];
    leased?: EventInsert['leased'];
    place?: LinePlace | undefined;
    /** Routes a replay adds: counted as replayed. */
    replay?: boolean;
  }[],
  now: number,
): Script<boolean> {
  const deliveries: unknown[][] = [];
  const members: unknown[][] = [];
  const silenced: unknown[][] = [];
  let pending = false;
  for (const { eventId, ms, routes, leased, place, replay } of entries) {
    const replays = replay ? 1 : 0;
    for (const r of routes) {
      const rules = JSON.stringify(r.rules);
      const line = place !== undefined && isOrderedRoute(r) ? [place.key, place.seq] : [null, null];
      if (r.silencedBy !== undefined) silenced.push([eventId, r.destination, r.silencedBy, rules]);
      else if (r.groupKey !== undefined) members.push([eventId, r.destination, r.groupKey, rules, ms]);
      else if (leased?.ids.has(r.id)) {
        // In flight with its first attempt counted, as a claim would have left it.
        deliveries.push([
          r.id,
          eventId,
          r.destination,
          rules,
          'inflight',
          1,
          ms,
          leased.owner,
          leased.untilMs,
          ms,
          now,
          replays,
          ...line,
        ]);
      } else {
        pending = true;
        deliveries.push([r.id, eventId, r.destination, rules, 'pending', 0, ms, null, null, ms, ms, replays, ...line]);
      }
    }
  }
  yield* rows(
    `INSERT INTO deliveries (id, event_id, destination, rules, state, attempts, next_attempt_ms, lease_owner,
       lease_until_ms, created_ms, updated_ms, replays, payout_key, payout_seq)
     SELECT r.id, r.event_id, r.destination, r.rules, r.state, r.attempts, r.next_ms, r.lease_owner, r.lease_until_ms,
       r.created_ms, r.updated_ms, r.replays, r.payout_key, r.payout_seq FROM :rows AS r`,
    { columns: DELIVERY_COLUMNS, rows: deliveries },
  );
  yield* rows(
    `INSERT INTO group_members (event_id, destination, group_key, rules, created_ms)
     SELECT r.event_id, r.destination, r.group_key, r.rules, r.created_ms FROM :rows AS r WHERE true
     ON CONFLICT DO NOTHING`,
    { columns: MEMBER_COLUMNS, rows: members },
  );
  yield* rows(
    `INSERT INTO event_silences (event_id, destination, silence_id, rules)
     SELECT r.event_id, r.destination, r.silence_id, r.rules FROM :rows AS r`,
    { columns: SILENCED_COLUMNS, rows: silenced },
  );
  if (pending) yield* notifyWork(d, 'event');
  return pending;
}
