import { ROUTED_SYSTEM_TYPES, type SystemEvent } from '../event';
import { parseEvent } from '../event-json';
import type { StoreContext } from './context';
import {
  iso,
  toAttemptView,
  toCallbackIdentity,
  toConflictingCopy,
  toDeliveryView,
  toEventSummary,
  toGroupMembership,
  toRejectionDetail,
  toRejectionView,
  toSilencedRoute,
} from './rows';
import { all, get, where, type Dialect, type Row, type Script } from './sql';
import { waitingFor } from './ordering';
import type { InspectStore, QueueState } from './store';
import { DELIVERY_STATES, type DeliveryState } from '../delivery/types';
import type { DeliveryFilter, DeliveryView, EventDetail, EventFilter, EventSummary, ReplayFilter } from './types';

/**
 * What operators ask (the CLI, the admin API, the dashboard): listings newest first by id (ids are time-sortable),
 * a page's last id the next cursor; an event's whole story; the outbox as /metrics shows it.
 */

const DELIVERY_SELECT = `SELECT d.*, e.control_number, e.source || '.' || e.type AS event_type,
  ${waitingFor('d')} AS waiting_for FROM deliveries d JOIN events e ON e.id = d.event_id`;

/** The states the queue gauges count, each with a partial index of its own. */
const QUEUE_STATES: readonly DeliveryState[] = ['pending', 'inflight', 'dead'];

/**
 * A delivery state as SQL text: the partial indexes on deliveries (pending, inflight, dead) serve a query only when
 * its WHERE names the state as a literal. Only the four known states reach here.
 */
function stateLiteral(state: DeliveryState): string {
  if (!DELIVERY_STATES.includes(state)) throw new Error(`not a delivery state: ${String(state)}`);
  return `'${state}'`;
}

/**
 * skyrelay's own event types. Their events are found through an index of their own (events_system: only events
 * with source skyrelay), which a query uses when it names both as literals; a callback's type (payout, finance) is
 * most of the table, found by id order alone.
 */
const SYSTEM_TYPES: ReadonlySet<string> = new Set<SystemEvent['type']>([...ROUTED_SYSTEM_TYPES, 'group']);

// skyrelay's own events name their payout in their body (see toEventSummary).
const EVENT_SUMMARY_COLUMNS = `id, source, type, partner, control_number, pay_type, status, deal_time, received_ms,
  duplicates, CASE WHEN source = 'skyrelay' THEN body END AS system_body`;

/**
 * A page of events newest first: the ids first (from an index alone where the filters allow), then their rows and
 * how many deliveries each has per state. Reading only the page's rows keeps a page as cheap with a month of history
 * as with a day's; counting deliveries per page, not per scanned row, keeps the count off every row a filter skips.
 */
function* listEventSummaries(d: Dialect, f: EventFilter): Script<EventSummary[]> {
  const system = f.type !== undefined && SYSTEM_TYPES.has(f.type);
  const byArrival = f.sinceMs !== undefined || f.untilMs !== undefined;
  const w = where([
    ['e.control_number = ?', f.controlNumber],
    ['e.status = ?', f.status],
    // A literal from the set above, so the partial index applies.
    [system ? `e.source = 'skyrelay' AND e.type = '${f.type}'` : 'e.type = ?', f.type],
    ['e.partner = ?', f.partner],
    ['e.received_ms >= ?', f.sinceMs],
    ['e.received_ms < ?', f.untilMs],
    // A time window lists by arrival (see below): the page after a cursor is what arrived before it.
    [
      byArrival ? '(e.received_ms, e.id) < (SELECT c.received_ms, c.id FROM events c WHERE c.id = ?)' : 'e.id < ?',
      f.before,
    ],
  ]);
  // Newest first: by id (ids are time-sortable), or, within a time window, by arrival time then id, which is the
  // same order for events stored as they arrived, and the order of the index a window is read from: a window a
  // month back is then as cheap as the last hour, where id order would pass over everything that came after it.
  const order = byArrival ? 'e.received_ms DESC, e.id DESC' : 'e.id DESC';
  const ids = yield* all<{ id: string }>(`SELECT e.id FROM events e ${w.sql} ORDER BY ${order} LIMIT ?`, [
    ...w.params,
    f.limit,
  ]);
  if (ids.length === 0) return [];
  const list = d.list(ids.map((r) => r.id));
  const rowsById = new Map<string, Row>();
  for (const r of yield* all(`SELECT ${EVENT_SUMMARY_COLUMNS} FROM events WHERE id ${d.inList}`, [list])) {
    rowsById.set(String(r['id']), r);
  }
  const found: Row[] = ids.flatMap(({ id }) => {
    const r = rowsById.get(id);
    return r === undefined ? [] : [r];
  });
  const counted = yield* all<{ event_id: string; state: DeliveryState; n: number }>(
    `SELECT event_id, state, count(*) AS n FROM deliveries WHERE event_id ${d.inList} GROUP BY event_id, state`,
    [list],
  );
  const counts = new Map<string, Record<DeliveryState, number>>();
  for (const c of counted) {
    const entry = counts.get(c.event_id) ?? { pending: 0, inflight: 0, delivered: 0, dead: 0 };
    entry[c.state] = Number(c.n);
    counts.set(c.event_id, entry);
  }
  return found.map((r) =>
    toEventSummary({ ...r, ...(counts.get(String(r['id'])) ?? { pending: 0, inflight: 0, delivered: 0, dead: 0 }) }),
  );
}

/**
 * A page of deliveries newest first: the ids first (from an index where a filter has one), then their rows with
 * their events' columns, so only the page's deliveries are joined.
 */
function* listDeliveryViews(d: Dialect, f: DeliveryFilter): Script<DeliveryView[]> {
  const w = where([
    // A literal: pending, in-flight and dead ones through their partial indexes; delivered ones, most rows, in id
    // order without an index (see Dialect.noIndex).
    [
      `${f.state === 'delivered' ? d.noIndex : ''}d.state = ${f.state === undefined ? '' : stateLiteral(f.state)}`,
      f.state !== undefined,
    ],
    ['d.destination = ?', f.destination],
    ['d.updated_ms >= ?', f.sinceMs],
    // The clauses of the partial index deliveries_lines, which holds every held delivery.
    ["d.payout_key IS NOT NULL AND d.state <> 'delivered' AND d.held_since_ms IS NOT NULL", f.held],
    ['d.id < ?', f.before],
  ]);
  const ids = yield* all<{ id: string }>(`SELECT d.id FROM deliveries d ${w.sql} ORDER BY d.id DESC LIMIT ?`, [
    ...w.params,
    f.limit,
  ]);
  if (ids.length === 0) return [];
  const found = yield* all(`${DELIVERY_SELECT} WHERE d.id ${d.inList} ORDER BY d.id DESC`, [
    d.list(ids.map((r) => r.id)),
  ]);
  return found.map(toDeliveryView);
}

/** One event with everything that happened to it: deliveries and their attempts, copies, silences, groups. */
export function* readEvent(ctx: StoreContext, id: string): Script<EventDetail | undefined> {
  const { d } = ctx;
  const row = yield* get('SELECT body, duplicates, last_seen_ms FROM events WHERE id = ?', [id]);
  if (!row) return undefined;
  const deliveryRows = yield* all(`${DELIVERY_SELECT} WHERE d.event_id = ? ORDER BY d.id`, [id]);
  const attemptRows = deliveryRows.length
    ? yield* all(`SELECT * FROM attempts WHERE delivery_id ${d.inList} ORDER BY id`, [
        d.list(deliveryRows.map((r) => r['id'])),
      ])
    : [];
  const deliveries = deliveryRows.map((r) => ({
    ...toDeliveryView(r),
    attemptLog: attemptRows.filter((a) => a['delivery_id'] === r['id']).map(toAttemptView),
  }));
  const event = parseEvent(String(row['body']));
  const duplicates = Number(row['duplicates']);
  // The stored body is the first arrival; the count of later copies lives in its column.
  if (event.source === 'skypay') event.duplicates = duplicates;
  const copies = yield* all(
    'SELECT id, received_ms, repeats, body FROM callback_copies WHERE event_id = ? ORDER BY received_ms, id',
    [id],
  );
  const silenced = yield* all('SELECT * FROM event_silences WHERE event_id = ? ORDER BY destination', [id]);
  const members = yield* all(
    `SELECT m.destination, m.group_key, m.rules, m.created_ms, m.message_event_id, d.id AS delivery_id, d.state
     FROM group_members m LEFT JOIN deliveries d ON d.event_id = m.message_event_id
     WHERE m.event_id = ? ORDER BY m.destination`,
    [id],
  );
  return {
    event,
    duplicates,
    lastSeenAt: row['last_seen_ms'] == null ? null : iso(row['last_seen_ms']),
    deliveries,
    conflicts: copies.map((c) => toConflictingCopy(c, event, ctx.rules.listDifferences)),
    silenced: silenced.map(toSilencedRoute),
    groups: members.map(toGroupMembership),
  };
}

/** Every event of one payout (each status SkyPay reported), oldest first. */
export function* eventsOfControlNumber(ctx: StoreContext, controlNumber: string): Script<EventDetail[]> {
  const ids = yield* all<{ id: string }>('SELECT id FROM events WHERE control_number = ? ORDER BY id', [controlNumber]);
  const details: EventDetail[] = [];
  for (const { id } of ids) {
    const detail = yield* readEvent(ctx, id);
    if (detail) details.push(detail);
  }
  return details;
}

/** Which deliveries a bulk replay with this filter takes (locking them, PostgreSQL), oldest first. */
export function* selectReplayable(d: Dialect, f: ReplayFilter, lock = false): Script<string[]> {
  const w = where([
    // A literal, so dead ones are found through their partial index.
    [`state = ${stateLiteral(f.state)}`, true],
    ['destination = ?', f.destination],
    ['updated_ms >= ?', f.sinceMs],
  ]);
  const found = yield* all<{ id: string }>(
    `SELECT id FROM deliveries ${w.sql} ORDER BY id${lock ? d.forUpdate : ''}`,
    w.params,
  );
  return found.map((r) => r.id);
}

/** The outbox as /metrics shows it. */
function* readQueueState(): Script<QueueState> {
  // Unfinished and dead deliveries (delivered ones are history, not queue), each state counted over its own
  // partial index: nothing here reads the delivered rows.
  const byState = yield* all<{ destination: string; state: DeliveryState; n: number }>(
    `SELECT destination, state, n FROM (${QUEUE_STATES.map(
      (state) =>
        `SELECT destination, '${state}' AS state, count(*) AS n FROM deliveries WHERE state = '${state}'
           GROUP BY destination`,
    ).join(' UNION ALL ')}) AS queue ORDER BY destination, state`,
  );
  const oldest = yield* get<{ t: number | null }>(
    `SELECT min(t) AS t FROM (SELECT min(created_ms) AS t FROM deliveries WHERE state = 'pending'
       UNION ALL SELECT min(created_ms) AS t FROM deliveries WHERE state = 'inflight') AS unfinished`,
  );
  return {
    byDestination: byState.map((r) => ({ destination: r.destination, state: r.state, count: Number(r.n) })),
    oldestUnfinishedMs: oldest?.t == null ? undefined : Number(oldest.t),
  };
}

export function createInspectStore(ctx: StoreContext): InspectStore {
  const { read, d } = ctx;
  return {
    listEvents: (f) => read(() => listEventSummaries(d, f)),
    getEvent: (id) => read(() => readEvent(ctx, id)),
    findEventsByControlNumber: (controlNumber) => read(() => eventsOfControlNumber(ctx, controlNumber)),
    listDeliveries: (f) => read(() => listDeliveryViews(d, f)),
    // Every refused callback, newest first: also what `type=rejection` lists, since a rejection *event* exists
    // only when a rule routes skyrelay's own events, while every rejection has its row here.
    listRejections: (f) =>
      read(function* () {
        const w = where([
          ['reason = ?', f.reason],
          ['received_ms >= ?', f.sinceMs],
          ['id < ?', f.before],
        ]);
        const found = yield* all(
          `SELECT id, received_ms, remote_address, method, path, status, reason, partner, description, suppressed
           FROM rejections ${w.sql} ORDER BY id DESC LIMIT ?`,
          [...w.params, f.limit],
        );
        return found.map(toRejectionView);
      }),
    getRejection: (id) =>
      read(function* () {
        const row = yield* get('SELECT * FROM rejections WHERE id = ?', [id]);
        return row && toRejectionDetail(row);
      }),
    findCallbackIdentities: (controlNumber) =>
      read(function* () {
        const found = yield* all(
          'SELECT * FROM callback_keys WHERE control_number = ? ORDER BY received_ms, event_id',
          [controlNumber],
        );
        return found.map(toCallbackIdentity);
      }),
    countReplayable: (f) => read(() => selectReplayable(d, f)).then((ids) => ids.length),
    readQueueState: () => read(readQueueState),
  };
}
