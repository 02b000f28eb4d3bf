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
import { all, get, where, type Dialect, type Script } from './sql';
import type { InspectStore, QueueState } from './store';
import { DELIVERY_STATES, type DeliveryState } from '../delivery/types';
import type { EventDetail, ReplayFilter } from './types';

/**
 * What operators ask (the CLI, the admin API, the dashboard): listings newest first by id (ids are time-sortable),
 * a page's last id the next cursor; an event's whole story; the outbox as /metrics shows it.
 */

const DELIVERY_SELECT = `SELECT d.*, e.control_number, e.source || '.' || e.type AS event_type
  FROM deliveries d JOIN events e ON e.id = d.event_id`;

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

const countIn = (state: DeliveryState): string =>
  `(SELECT count(*) FROM deliveries d WHERE d.event_id = e.id AND d.state = '${state}') AS ${state}`;

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
    listEvents: (f) =>
      read(function* () {
        const w = where([
          ['e.control_number = ?', f.controlNumber],
          ['e.status = ?', f.status],
          ['e.type = ?', f.type],
          ['e.partner = ?', f.partner],
          ['e.received_ms >= ?', f.sinceMs],
          ['e.received_ms < ?', f.untilMs],
          ['e.id < ?', f.before],
        ]);
        const found = yield* all(
          `SELECT e.id, e.source, e.type, e.partner, e.control_number, e.pay_type, e.status, e.deal_time,
             e.received_ms, e.duplicates, ${countIn('pending')}, ${countIn('inflight')}, ${countIn('delivered')},
             ${countIn('dead')}, CASE WHEN e.source = 'skyrelay' THEN e.body END AS system_body
           FROM events e ${w.sql} ORDER BY e.id DESC LIMIT ?`,
          [...w.params, f.limit],
        );
        return found.map(toEventSummary);
      }),
    getEvent: (id) => read(() => readEvent(ctx, id)),
    findEventsByControlNumber: (controlNumber) => read(() => eventsOfControlNumber(ctx, controlNumber)),
    listDeliveries: (f) =>
      read(function* () {
        const w = where([
          [`d.state = ${f.state === undefined ? '' : stateLiteral(f.state)}`, f.state !== undefined],
          ['d.destination = ?', f.destination],
          ['d.updated_ms >= ?', f.sinceMs],
          ['d.id < ?', f.before],
        ]);
        const found = yield* all(`${DELIVERY_SELECT} ${w.sql} ORDER BY d.id DESC LIMIT ?`, [...w.params, f.limit]);
        return found.map(toDeliveryView);
      }),
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
