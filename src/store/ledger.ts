import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { addPayouts, countAnomalies, countCallbacks, countPayouts, findLostCallbacks } from './ledger-totals';
import type { RelayEvent } from '../event';
import type { StoreContext } from './context';
import { all, get, type Dialect, type Script } from './sql';
import type { LedgerStore } from './store';
import { DELIVERY_STATES, type NewDelivery } from '../delivery/types';
import {
  EVENT_ORIGINS,
  LEDGER_UNEXPLAINED_LIMIT,
  type EventOrigin,
  type LedgerCounts,
  type LedgerDayRecord,
  type LedgerWindow,
  type PayoutCounts,
  type RouteCounts,
  type RouteEnd,
  type Unexplained,
} from '../ledger/types';
import { insertEvents } from './writes';

/**
 * The ledger's counting: one window's stored rows added up, set-based, each statement over an index (events by
 * received_ms, deliveries, members and silences by event, payouts by first_seen_ms, the callback tally by quarter).
 * The events' and payouts' statements run a slice of the window at a time (see SLICE_MS), each slice its own read
 * with a rest after it (see REST_RATIO), so no one statement holds the store for the whole day of 50,000 events and
 * callbacks keep being answered meanwhile. Rows are counted where they fit; a row fitting no bucket is named
 * (Unexplained) rather than dropped.
 */

/**
 * How much of the window one read counts. On SQLite, ctx.read runs a daemon's read on the store's read thread
 * (src/store/sqlite/reader.ts): the script stays on the event loop, its statements are executed on the thread one
 * at a time for every reader, so other reads there (the dashboard's listings) wait behind a ledger statement. Where
 * no read thread runs (the CLI, which opens the file with mustExist, or a daemon whose thread failed) the read is on
 * the store's own connection and holds the event loop, callbacks included. A quarter hour of a busy day (some 500
 * events) takes a few milliseconds either way, so that is the longest anyone waits.
 *
 * PostgreSQL's reads wait off the event loop on a pooled connection of their own, so no lock and no connection is
 * taken from the callbacks; what they share is the server's CPU, on the same machine as often as not. An hour (some
 * 2,000 events) is about 15 ms of one backend's CPU; the whole day in one statement kept a core busy (three
 * processes with parallel workers) for half a second and more, and a callback's acknowledgement, which needs the
 * daemon, its backend and the WAL writer in turn, waited for CPU meanwhile: its p99 rose by some 30 ms.
 */
const SLICE_MS: Readonly<Record<Dialect['name'], number>> = { sqlite: 15 * 60_000, postgres: 60 * 60_000 };

/**
 * How long the ledger rests after a slice, relative to how long the slice took. On PostgreSQL as long again: the
 * ledger's backend is then busy half the time at most, and when the machine is loaded the slices take longer and the
 * rests grow with them, the callbacks' share of CPU with it. Rests are taken only in the first RESTING_MS of a
 * ledger; after that the slices left run one after another, so a ledger asked for on a loaded machine still comes in
 * well within two seconds. On SQLite a turn of the event loop: requests parsed meanwhile are answered before the next
 * slice, and its reads compete for no other process's CPU.
 */
const REST_RATIO: Readonly<Record<Dialect['name'], number>> = { sqlite: 0, postgres: 1 };
const RESTING_MS = 1_200;

/**
 * The rows of `table` (as `alias`) that belong to the slice's events. On PostgreSQL a semi-join on the event ids the
 * slice's range scan gives (`= ANY(ARRAY(...))`): one probe of the table's event_id index per event, so the cost
 * follows the slice and not the table, where a join lets the planner hash the whole table, deliveries included, a
 * million rows read (by three processes, with parallel workers) for every ledger. SQLite joins by probing anyway.
 */
function ofEvents(d: Dialect, table: string, alias: string, inWindow: { sql: string }): string {
  return d.name === 'postgres'
    ? `${table} ${alias} WHERE ${alias}.event_id = ANY(ARRAY(SELECT e.id FROM events e WHERE ${inWindow.sql}))`
    : `events e JOIN ${table} ${alias} ON ${alias}.event_id = e.id WHERE ${inWindow.sql}`;
}

type Window = Pick<LedgerWindow, 'startMs' | 'endMs' | 'partner'>;

/** `e.received_ms` in the window (and the partner): the events a slice counts. */
function eventsIn(w: Window): { sql: string; params: unknown[] } {
  const partner = w.partner === undefined ? '' : ' AND e.partner = ?';
  return {
    sql: `e.received_ms >= ? AND e.received_ms < ?${partner}`,
    params: w.partner === undefined ? [w.startMs, w.endMs] : [w.startMs, w.endMs, w.partner],
  };
}

/** What a slice of events gives: counts by origin and by destination, and rows that fit nowhere. */
interface SliceCounts {
  events: Record<EventOrigin, number>;
  routes: Map<string, RouteCounts>;
  unexplained: Unexplained[];
}

const emptyRoutes = (): RouteCounts => ({
  routed: 0,
  delivered: 0,
  deliveredInGroup: 0,
  silenced: 0,
  dead: 0,
  pending: 0,
  inflight: 0,
  replayed: 0,
  oldestPendingMs: null,
});

function routesOf(counts: Map<string, RouteCounts>, destination: string): RouteCounts {
  let found = counts.get(destination);
  if (!found) counts.set(destination, (found = emptyRoutes()));
  return found;
}

function addTo(r: RouteCounts, end: RouteEnd | undefined, n: number, oldest: unknown): void {
  r.routed += n;
  if (end === undefined) return;
  r[end] += n;
  if (end === 'pending' && oldest != null) {
    r.oldestPendingMs = r.oldestPendingMs === null ? Number(oldest) : Math.min(r.oldestPendingMs, Number(oldest));
  }
}

const KNOWN_STATES: ReadonlySet<string> = new Set(DELIVERY_STATES);
/** A group member's end, by the state of the message that carries it ('waiting': no message yet). */
const MEMBER_ENDS: Readonly<Record<string, RouteEnd>> = {
  waiting: 'pending',
  pending: 'pending',
  inflight: 'inflight',
  delivered: 'deliveredInGroup',
  dead: 'dead',
};

/** Events by origin, and the routes their rules chose in all (events stored before routes were kept: none). */
function* countEventsByOrigin(w: Window): Script<{ events: Record<EventOrigin, number>; planned: number }> {
  const inWindow = eventsIn(w);
  const found = yield* all<{ origin: string; n: number; routes: number | null }>(
    `SELECT coalesce(e.origin, CASE WHEN e.source = 'skyrelay' THEN 'skyrelay' ELSE 'callback' END) AS origin,
       count(*) AS n, sum(e.routes) AS routes FROM events e WHERE ${inWindow.sql} GROUP BY 1`,
    inWindow.params,
  );
  const events = { callback: 0, reconciliation: 0, skyrelay: 0 };
  for (const r of found)
    if ((EVENT_ORIGINS as readonly string[]).includes(r.origin)) events[r.origin as EventOrigin] = Number(r.n);
  return { events, planned: found.reduce((sum, r) => sum + Number(r.routes ?? 0), 0) };
}

/** Deliveries of the window's events, by destination and state; the ids of those in a state no end knows. */
function* countDeliveries(d: Dialect, w: Window, out: SliceCounts): Script<void> {
  const inWindow = eventsIn(w);
  const found = yield* all<{ destination: string; state: string; n: number; oldest: unknown; replayed: number }>(
    `SELECT d.destination, d.state, count(*) AS n, min(d.created_ms) AS oldest,
       sum(CASE WHEN d.replays > 0 THEN 1 ELSE 0 END) AS replayed
     FROM ${ofEvents(d, 'deliveries', 'd', inWindow)} GROUP BY d.destination, d.state`,
    inWindow.params,
  );
  let strange = false;
  for (const r of found) {
    const counts = routesOf(out.routes, r.destination);
    const known = KNOWN_STATES.has(r.state);
    strange ||= !known;
    addTo(counts, known ? (r.state as RouteEnd) : undefined, Number(r.n), r.oldest);
    counts.replayed += Number(r.replayed ?? 0);
  }
  if (!strange) return;
  const rows = yield* all<{ id: string; event_id: string; destination: string; state: string }>(
    `SELECT d.id, d.event_id, d.destination, d.state FROM ${ofEvents(d, 'deliveries', 'd', inWindow)}
     AND d.state NOT IN ('pending', 'inflight', 'delivered', 'dead') ORDER BY d.id LIMIT ?`,
    [...inWindow.params, LEDGER_UNEXPLAINED_LIMIT],
  );
  for (const r of rows) {
    out.unexplained.push({
      kind: 'delivery',
      id: r.id,
      eventId: r.event_id,
      destination: r.destination,
      why: `delivery to ${r.destination} is in state "${r.state}", which is none of pending, inflight, delivered, dead`,
    });
  }
}

/** A member's state: its message's delivery, 'waiting' before one, 'missing' or 'undelivered' when it is gone. */
const MEMBER_STATE = `CASE WHEN m.message_event_id IS NULL THEN 'waiting'
  WHEN NOT EXISTS (SELECT 1 FROM events me WHERE me.id = m.message_event_id) THEN 'missing'
  ELSE coalesce((SELECT min(md.state) FROM deliveries md WHERE md.event_id = m.message_event_id), 'undelivered') END`;

/** Group memberships of the window's events, by destination and their message's state. */
function* countMembers(d: Dialect, w: Window, out: SliceCounts): Script<void> {
  const inWindow = eventsIn(w);
  const found = yield* all<{ destination: string; state: string; n: number; oldest: unknown }>(
    `SELECT m.destination, ${MEMBER_STATE} AS state, count(*) AS n, min(m.created_ms) AS oldest
     FROM ${ofEvents(d, 'group_members', 'm', inWindow)} GROUP BY 1, 2`,
    inWindow.params,
  );
  let strange = false;
  for (const r of found) {
    const end = Object.hasOwn(MEMBER_ENDS, r.state) ? MEMBER_ENDS[r.state] : undefined;
    strange ||= end === undefined;
    addTo(routesOf(out.routes, r.destination), end, Number(r.n), r.oldest);
  }
  if (!strange) return;
  const rows = yield* all<{ event_id: string; destination: string; message_event_id: string; state: string }>(
    `SELECT * FROM (SELECT m.event_id, m.destination, m.message_event_id, ${MEMBER_STATE} AS state
       FROM ${ofEvents(d, 'group_members', 'm', inWindow)}) AS x
     WHERE x.state NOT IN ('waiting', 'pending', 'inflight', 'delivered', 'dead') ORDER BY x.event_id LIMIT ?`,
    [...inWindow.params, LEDGER_UNEXPLAINED_LIMIT],
  );
  for (const r of rows) {
    const why =
      r.state === 'missing'
        ? `member of a group to ${r.destination} whose message ${r.message_event_id} is missing`
        : r.state === 'undelivered'
          ? `member of a group to ${r.destination} whose message ${r.message_event_id} has no delivery`
          : `member of a group to ${r.destination} whose message's delivery is in state "${r.state}"`;
    out.unexplained.push({ kind: 'groupMember', id: r.event_id, why, destination: r.destination });
  }
}

function* countSilenced(d: Dialect, w: Window, out: SliceCounts): Script<void> {
  const inWindow = eventsIn(w);
  const found = yield* all<{ destination: string; n: number }>(
    `SELECT s.destination, count(*) AS n FROM ${ofEvents(d, 'event_silences', 's', inWindow)}
     GROUP BY s.destination`,
    inWindow.params,
  );
  for (const r of found) addTo(routesOf(out.routes, r.destination), 'silenced', Number(r.n), null);
}

/** Events with fewer route rows than their rules chose when they were stored: a delivery or member went missing. */
function* findShortEvents(w: Window, out: SliceCounts): Script<void> {
  const inWindow = eventsIn(w);
  const short = yield* all<{ id: string; routes: number; found: number }>(
    `SELECT x.id, x.routes, x.found FROM (
       SELECT e.id, e.routes,
         (SELECT count(*) FROM deliveries d WHERE d.event_id = e.id)
         + (SELECT count(*) FROM group_members m WHERE m.event_id = e.id)
         + (SELECT count(*) FROM event_silences s WHERE s.event_id = e.id) AS found
       FROM events e WHERE ${inWindow.sql} AND e.routes > 0) AS x
     WHERE x.found < x.routes ORDER BY x.id LIMIT ?`,
    [...inWindow.params, LEDGER_UNEXPLAINED_LIMIT],
  );
  for (const r of short) {
    out.unexplained.push({
      kind: 'event',
      id: r.id,
      why: `its rules chose ${Number(r.routes)} route(s) when it was stored, but ${Number(r.found)} remain`,
    });
  }
}

function* countSlice(d: Dialect, w: LedgerWindow): Script<SliceCounts & { payouts: PayoutCounts }> {
  const { events, planned } = yield* countEventsByOrigin(w);
  const out = { events, routes: new Map<string, RouteCounts>(), unexplained: [], payouts: yield* countPayouts(w) };
  yield* countDeliveries(d, w, out);
  yield* countMembers(d, w, out);
  yield* countSilenced(d, w, out);
  // Each event's route rows against what its rules chose, looked at one by one only when the totals differ: a
  // replay that adds routes adds them to the event's count too, so the totals agree unless a row went missing
  // (or one was added behind skyrelay's back, as many as went missing elsewhere).
  const found = [...out.routes.values()].reduce((sum, r) => sum + r.routed, 0);
  if (found !== planned) yield* findShortEvents(w, out);
  return out;
}

function mergeSlice(into: SliceCounts, slice: SliceCounts): void {
  for (const origin of EVENT_ORIGINS) into.events[origin] += slice.events[origin];
  for (const [destination, r] of slice.routes) {
    const total = routesOf(into.routes, destination);
    for (const key of [
      'routed',
      'delivered',
      'deliveredInGroup',
      'silenced',
      'dead',
      'pending',
      'inflight',
      'replayed',
    ] as const) {
      total[key] += r[key];
    }
    if (r.oldestPendingMs !== null) {
      total.oldestPendingMs =
        total.oldestPendingMs === null ? r.oldestPendingMs : Math.min(total.oldestPendingMs, r.oldestPendingMs);
    }
  }
  into.unexplained.push(...slice.unexplained);
}

/** The rests of one ledger begun now: how long to wait after a slice that took `tookMs` (see REST_RATIO). */
function rests(d: Dialect): (tookMs: number) => Promise<unknown> {
  const until = performance.now() + RESTING_MS;
  return (tookMs) => {
    const rest = Math.min(tookMs * REST_RATIO[d.name], until - performance.now());
    return rest >= 1 ? sleep(rest) : nextTurn();
  };
}

/** The window in slices (see SLICE_MS): each its own read, a rest after each (see REST_RATIO). */
async function* sliced<R>(
  ctx: StoreContext,
  w: LedgerWindow,
  restAfter: (tookMs: number) => Promise<unknown>,
  script: (slice: LedgerWindow) => Script<R>,
) {
  const sliceMs = SLICE_MS[ctx.d.name];
  for (let start = w.startMs; start < w.endMs; start += sliceMs) {
    const slice = { ...w, startMs: start, endMs: Math.min(start + sliceMs, w.endMs) };
    const began = performance.now();
    yield await ctx.read(() => script(slice));
    await restAfter(performance.now() - began);
  }
}

/**
 * Counts a window: the callbacks' tally and the anomalies at once (a few rows), the events and payouts a slice at a
 * time.
 */
async function readLedgerCounts(ctx: StoreContext, w: LedgerWindow): Promise<LedgerCounts> {
  const restAfter = rests(ctx.d);
  const { callbacks, anomalies } = await ctx.read(function* () {
    return { callbacks: yield* countCallbacks(w), anomalies: yield* countAnomalies(w) };
  });
  const total: SliceCounts = {
    events: { callback: 0, reconciliation: 0, skyrelay: 0 },
    routes: new Map(),
    unexplained: [],
  };
  const payouts: PayoutCounts[] = [];
  for await (const slice of sliced(ctx, w, restAfter, (slice) => countSlice(ctx.d, slice))) {
    mergeSlice(total, slice);
    payouts.push(slice.payouts);
  }
  // Acknowledged as new but fewer events than that: the identities whose event is gone are named.
  if (callbacks.newEvents > total.events.callback) {
    const lost: Unexplained[] = [];
    for await (const found of sliced(ctx, w, restAfter, findLostCallbacks)) lost.push(...found);
    total.unexplained.unshift(...lost);
  }
  const routes: Record<string, RouteCounts> = {};
  for (const destination of [...total.routes.keys()].sort())
    routes[destination] = total.routes.get(destination) as RouteCounts;
  return {
    callbacks,
    events: total.events,
    routes,
    payouts: { ...addPayouts(payouts), anomalies },
    unexplained: total.unexplained.slice(0, LEDGER_UNEXPLAINED_LIMIT),
  };
}

/** The daily summary: its record and its event go in together, once per day whichever process gets there first. */
function* raiseLedgerDay(
  d: Dialect,
  record: LedgerDayRecord,
  event: RelayEvent,
  routes: readonly NewDelivery[],
  now: number,
): Script<boolean> {
  const taken = yield* get(
    `INSERT INTO ledger_days (day, timezone, computed_ms, balanced, unexplained, event_id) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (day) DO NOTHING RETURNING day`,
    [record.day, record.timezone, record.computedMs, record.balanced ? 1 : 0, record.unexplained, event.id],
  );
  if (taken === undefined) return false;
  yield* insertEvents(d, [{ event, receivedMs: Date.parse(event.receivedAt), routes }], now);
  return true;
}

const toDayRecord = (r: Record<string, unknown>): LedgerDayRecord => ({
  day: String(r['day']),
  timezone: String(r['timezone']),
  computedMs: Number(r['computed_ms']),
  balanced: Number(r['balanced']) === 1,
  unexplained: Number(r['unexplained']),
  eventId: r['event_id'] == null ? null : String(r['event_id']),
});

export function createLedgerStore(ctx: StoreContext): LedgerStore {
  const { read, write, d } = ctx;
  return {
    readLedgerCounts: (w) => readLedgerCounts(ctx, w),
    raiseLedgerDay: (record, event, routes, now = Date.now()) =>
      write(() => raiseLedgerDay(d, record, event, routes, now)),
    readLedgerDay: (day) =>
      read(function* () {
        const row = yield* get('SELECT * FROM ledger_days WHERE day = ?', [day]);
        return row && toDayRecord(row);
      }),
    readLatestLedgerDay: () =>
      read(function* () {
        const row = yield* get(`SELECT * FROM ledger_days ORDER BY day DESC LIMIT 1`);
        return row && toDayRecord(row);
      }),
  };
}
