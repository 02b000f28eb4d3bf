import type { RelayEvent } from '../event';
import { parseEvent } from '../event-json';
import type { StoreContext } from './context';
import { all, get, notifyWork, rows, run, type Dialect, type Script } from './sql';
import type { OrderingStore } from './store';
import type { AttemptRecord, ClaimedDelivery, DeliveryNext, DeliveryState, NewDelivery } from '../delivery/types';
import type { HoldRelease } from './types';
import {
  admitInTurn,
  isOrderedRoute,
  lineOf,
  numberInBatch,
  payoutKeyOf,
  type LineCandidate,
  type LinePlace,
} from '../delivery/decisions';

/**
 * Ordered destinations: each payout's events reach one of them one at a time, in the order they were stored.
 *
 * A delivery of a payout status to an ordered destination (NewDelivery.ordered) stands in a line: its destination
 * and payout (`payout_key`), at its place (`payout_seq`, the event's number among the payout's ordered events). Its
 * turn has come when no other delivery of its line is in flight and none before it is pending, or dead and holding
 * (orderedOnDead "hold": `held_since_ms`). Nothing about a turn is stored: claims and the ingest hand-off read it
 * from the line's live rows (the deliveries_lines index), so a finish, a replay, a release or a crash needs no
 * bookkeeping to move a line on. A line's one delivery in flight is its lease: leased under the destination's lock
 * (src/store/outbox.ts, leaseAtIngest), it keeps every other process from sending the payout's next event there
 * until it is finished, handed back or taken over after its lease ran out.
 */

/**
 * Numbers the batch's events that have an ordered route, per payout, after the payout's events stored before: one
 * upsert of the payouts' counters, in key order. Its row locks keep two writers of one payout in line (PostgreSQL:
 * the second waits for the first to commit, then counts on from it), so the numbers follow the commits; a writer
 * holds them only after its payout rows, and takes the destinations' locks only after them, so no lock waits on
 * another in a cycle. Resolves each numbered event's place, by event id.
 */
export function* placeInLine(
  events: readonly { event: RelayEvent; routes: readonly NewDelivery[] }[],
): Script<Map<string, LinePlace>> {
  const entries = events.map(({ event, routes }) => ({
    id: event.id,
    key: payoutKeyOf(event),
    ordered: routes.some(isOrderedRoute),
  }));
  const counts = new Map<string, number>();
  for (const e of entries) if (e.key !== undefined && e.ordered) counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
  if (counts.size === 0) return new Map();
  const counted = yield* rows<{ payout_key: string; last_seq: number }>(
    `INSERT INTO payout_order (payout_key, last_seq) SELECT r.payout_key, r.n FROM :rows AS r WHERE true
     ON CONFLICT (payout_key) DO UPDATE SET last_seq = payout_order.last_seq + excluded.last_seq
     RETURNING payout_key, last_seq`,
    {
      columns: [
        ['payout_key', 'text'],
        ['n', 'bigint'],
      ],
      rows: [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    },
  );
  const before = new Map(counted.map((r) => [r.payout_key, Number(r.last_seq) - (counts.get(r.payout_key) ?? 0)]));
  return numberInBatch(entries, before);
}

/**
 * The place a replay gives an event's new delivery to an ordered destination: the event's own, where another of its
 * deliveries has one (so it goes where the event stood, before the payout's later events still waiting); else the
 * next of its payout, as if it were stored now.
 */
export function* placeOfReplay(event: RelayEvent): Script<LinePlace | undefined> {
  const key = payoutKeyOf(event);
  if (key === undefined) return undefined;
  const own = yield* get<{ payout_seq: number }>(
    'SELECT payout_seq FROM deliveries WHERE event_id = ? AND payout_seq IS NOT NULL LIMIT 1',
    [event.id],
  );
  if (own !== undefined) return { key, seq: Number(own.payout_seq) };
  return (yield* placeInLine([{ event, routes: [{ id: '', destination: '', rules: [], ordered: true }] }])).get(
    event.id,
  );
}

/** The rows of `x`'s line that are still live (every clause the partial index deliveries_lines is defined by). */
const LINE_OF = (x: string) =>
  `FROM deliveries o WHERE o.payout_key IS NOT NULL AND o.state <> 'delivered'
     AND o.destination = ${x}.destination AND o.payout_key = ${x}.payout_key AND o.id <> ${x}.id`;

/** What keeps `x` from being sent: a delivery of its line in flight, or one before it pending or dead and holding. */
const BLOCKS = (x: string) =>
  `(o.state = 'inflight' OR (o.payout_seq < ${x}.payout_seq AND (o.state = 'pending' OR o.held_since_ms IS NOT NULL)))`;

/**
 * SQL: the pending delivery `x` (a table name or alias in the statement) may be sent now, as far as order goes: it
 * stands in no line, or its turn has come. Written into a claim's and the hand-off's reads, so a delivery whose turn
 * has not come neither counts as waiting nor takes a claim's room.
 */
export function inTurn(x: string): string {
  return `(${x}.payout_key IS NULL OR NOT EXISTS (SELECT 1 ${LINE_OF(x)} AND ${BLOCKS(x)}))`;
}

/**
 * SQL: how many (0 to 2) kinds of pending delivery are due at `?` to `destination` (an SQL expression): in no line,
 * and in turn in a line. Read as whether any delivery is due there, as far as order goes, in
 * two parts: those in no line, judged from the deliveries_pending index alone (it holds payout_key), and those of a
 * line whose turn has come, found through deliveries_lines. An unordered destination's deliveries so cost what they
 * did before ordered ones existed: the second part finds no line of theirs.
 */
export function dueSomewhere(d: Dialect, destination: string): string {
  // Counted to one (LIMIT 1) each; the lines' part through deliveries_lines alone (see earliestDue).
  return `((SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE state = 'pending' AND destination = ${destination}
       AND next_attempt_ms <= ? AND payout_key IS NULL LIMIT 1) AS w)
     + (SELECT count(*) FROM (SELECT 1 FROM deliveries x WHERE x.payout_key IS NOT NULL AND x.state <> 'delivered'
       AND x.destination = ${destination} AND ${d.noIndex}x.state = 'pending' AND x.next_attempt_ms <= ?
       AND ${inTurn('x')} LIMIT 1) AS l))`;
}

/**
 * SQL for the worker's next wake: the earliest due time of pending deliveries that `where` admits (written for an
 * unqualified deliveries row), in no line or in turn in theirs; in two parts for the reason given at dueSomewhere.
 */
export function earliestDue(d: Dialect, where: string): string {
  // The lines' part is read through deliveries_lines (SQLite would take the state index, every pending row).
  return `SELECT min(next_attempt_ms) AS t FROM deliveries WHERE state = 'pending' AND ${where} AND payout_key IS NULL
     UNION ALL SELECT min(x.next_attempt_ms) AS t FROM deliveries x WHERE x.payout_key IS NOT NULL
       AND x.state <> 'delivered' AND ${d.noIndex}x.state = 'pending' AND ${where} AND ${inTurn('x')}`;
}

/** SQL, for a listing: the delivery a pending one of a line waits for (the first live one before it), else NULL. */
export function waitingFor(x: string): string {
  return `CASE WHEN ${x}.payout_key IS NOT NULL AND ${x}.state = 'pending' THEN (SELECT o.id ${LINE_OF(x)}
     AND ${BLOCKS(x)} ORDER BY o.payout_seq LIMIT 1) END`;
}

/**
 * The lines among `candidates` that already have a live delivery: one in flight, pending, or dead and holding. A new
 * delivery there must wait its turn, so the hand-off leases none of them.
 */
export function* busyLines(candidates: readonly LineCandidate[]): Script<Set<string>> {
  const lines = new Map<string, { destination: string; key: string }>();
  for (const c of candidates) if (c.key !== undefined) lines.set(lineOf({ ...c, key: c.key }), { ...c, key: c.key });
  if (lines.size === 0) return new Set();
  const busy = yield* rows<{ destination: string; payout_key: string }>(
    `SELECT r.destination, r.payout_key FROM :rows AS r WHERE EXISTS (SELECT 1 FROM deliveries o
       WHERE o.payout_key IS NOT NULL AND o.state <> 'delivered' AND o.destination = r.destination
         AND o.payout_key = r.payout_key AND (o.state <> 'dead' OR o.held_since_ms IS NOT NULL))`,
    {
      columns: [
        ['destination', 'text'],
        ['payout_key', 'text'],
      ],
      rows: [...lines.values()].map((l) => [l.destination, l.key]),
    },
  );
  return new Set(busy.map((b) => lineOf({ destination: b.destination, key: b.payout_key })));
}

/**
 * For the hand-off: of a batch's routes (every event's, in the order stored, each with its event's place), the ids
 * of those whose turn has come, so they may be leased at once: the first of each line, when the line has no live
 * delivery already. Routes in no line are all in turn.
 */
export function* routesInTurn(
  planned: readonly { routes: readonly NewDelivery[]; place: LinePlace | undefined }[],
): Script<Set<string>> {
  const candidates: LineCandidate[] = planned.flatMap(({ routes, place }) =>
    routes.map((r) => ({
      id: r.id,
      destination: r.destination,
      key: place !== undefined && isOrderedRoute(r) ? place.key : undefined,
    })),
  );
  const busy = yield* busyLines(candidates);
  return new Set(admitInTurn(candidates, busy).map((c) => c.id));
}

/** In the group commit, after the finishes: the deaths that hold their payout's later deliveries behind them. */
export function* holdBehindDead(
  d: Dialect,
  finishes: readonly { delivery: { id: string }; next: DeliveryNext }[],
  now: number,
): Script<void> {
  const ids = finishes.filter((f) => f.next.state === 'dead' && f.next.hold === true).map((f) => f.delivery.id);
  if (ids.length === 0) return;
  // Only a death just recorded: a finish whose lease was taken over left its delivery in flight, and holds nothing.
  // noIndex: SQLite would otherwise read `state = 'dead'` through its index, every dead delivery of the history.
  yield* run(
    `UPDATE deliveries SET held_since_ms = ? WHERE id ${d.inList} AND ${d.noIndex}state = 'dead'
     AND payout_key IS NOT NULL`,
    [now, d.list(ids)],
  );
}

/** A finished attempt as the group commit carries it (src/store/outbox.ts FinishWrite), as far as lines go. */
interface LineFinish {
  delivery: { id: string };
  owner: string;
  next: DeliveryNext;
  passOnUntilMs?: number | undefined;
}

/**
 * In the group commit, after the finishes: each finish of a line's delivery that brings the line's next one its turn
 * (delivered, or dead and not holding) leases that one to the same owner, if it is due and the destination's breaker
 * is closed (an open or paused one's deliveries wait for the breaker, as claims leave them), so it goes out at once
 * rather than waiting for a claim. The finished one leaves flight as this one enters: the destination's in-flight
 * count is unchanged, so no destination lock is needed; a claim elsewhere sees the line's next delivery in turn only
 * once this commits, and then in flight. Resolves with the deliveries leased, by the id of the finish that passed.
 */
export function* passOnInLine(
  d: Dialect,
  finishes: readonly LineFinish[],
  now: number,
): Script<Map<string, ClaimedDelivery>> {
  const passing = finishes.filter(
    (f) => f.passOnUntilMs !== undefined && (f.next.state === 'delivered' || (f.next.state === 'dead' && !f.next.hold)),
  );
  const passed = new Map<string, ClaimedDelivery>();
  if (passing.length === 0) return passed;
  const next = yield* rows<{
    after: string;
    id: string;
    event_id: string;
    destination: string;
    rules: string;
    attempts: number;
  }>(
    `SELECT r.id AS after, n.id, n.event_id, n.destination, n.rules, n.attempts
     FROM :rows AS r JOIN deliveries x ON x.id = r.id AND x.payout_key IS NOT NULL AND x.state <> 'inflight'
     JOIN deliveries n ON n.payout_key IS NOT NULL AND n.state <> 'delivered' AND n.destination = x.destination
       AND n.payout_key = x.payout_key AND n.state = 'pending' AND n.next_attempt_ms <= ? AND ${inTurn('n')}
     WHERE NOT EXISTS (SELECT 1 FROM destination_states s WHERE s.destination = n.destination
       AND s.state <> 'closed')`,
    { columns: [['id', 'text']], rows: passing.map((f) => [f.delivery.id]) },
    [now],
  );
  if (next.length === 0) return passed;
  const byFinish = new Map(passing.map((f) => [f.delivery.id, f]));
  const leased = yield* rows<{ id: string }>(
    `UPDATE deliveries SET state = 'inflight', lease_owner = r.owner, lease_until_ms = r.until_ms,
       attempts = deliveries.attempts + 1, updated_ms = ?
     FROM :rows AS r WHERE deliveries.id = r.id AND deliveries.state = 'pending' RETURNING deliveries.id`,
    {
      columns: [
        ['id', 'text'],
        ['owner', 'text'],
        ['until_ms', 'bigint'],
      ],
      rows: next.map((n) => {
        const f = byFinish.get(n.after) as LineFinish;
        return [n.id, f.owner, f.passOnUntilMs];
      }),
    },
    [now],
  );
  const taken = new Set(leased.map((l) => l.id));
  const mine = next.filter((n) => taken.has(n.id));
  if (mine.length === 0) return passed;
  const bodies = yield* all<{ id: string; body: string }>(`SELECT id, body FROM events WHERE id ${d.inList}`, [
    d.list([...new Set(mine.map((n) => n.event_id))]),
  ]);
  const bodyOf = new Map(bodies.map((b) => [b.id, b.body]));
  for (const n of mine) {
    passed.set(n.after, {
      id: n.id,
      eventId: n.event_id,
      destination: n.destination,
      rules: JSON.parse(n.rules) as string[],
      attempt: Number(n.attempts) + 1,
      event: parseEvent(bodyOf.get(n.event_id) as string),
    });
  }
  return passed;
}

/** How many of the payout's later deliveries to the same destination wait behind `deliveryId` (pending or in flight). */
function* countWaitingBehind(deliveryId: string): Script<number> {
  const row = yield* get<{ n: number }>(
    `SELECT count(*) AS n FROM deliveries x JOIN deliveries o ON o.payout_key IS NOT NULL AND o.state <> 'delivered'
       AND o.destination = x.destination AND o.payout_key = x.payout_key AND o.payout_seq > x.payout_seq
     WHERE x.id = ? AND o.state IN ('pending', 'inflight')`,
    [deliveryId],
  );
  return Number(row?.n ?? 0);
}

/**
 * An operator lets a held payout go on without sending the dead delivery again: it stays dead, and no longer holds
 * the payout's later deliveries to its destination.
 */
function* releaseHold(d: Dialect, deliveryId: string, now: number): Script<HoldRelease> {
  const released = yield* run(
    `UPDATE deliveries SET held_since_ms = NULL, updated_ms = ? WHERE id = ? AND held_since_ms IS NOT NULL`,
    [now, deliveryId],
  );
  if (released > 0) {
    const waiting = yield* countWaitingBehind(deliveryId);
    // Other processes' workers look again: the payout's next delivery may be due now.
    if (waiting > 0) yield* notifyWork(d, 'release');
    return { released: true, waiting };
  }
  const row = yield* get<{ state: string }>('SELECT state FROM deliveries WHERE id = ?', [deliveryId]);
  return { released: false, state: row === undefined ? undefined : (row.state as DeliveryState) };
}

/** The group commit finished attempts share with callbacks (src/store/commit.ts). */
interface FinishCommit {
  finish(
    finish: LineFinish & { delivery: ClaimedDelivery; attempt: AttemptRecord },
  ): Promise<ClaimedDelivery | undefined>;
}

export function createOrderingStore(ctx: StoreContext, commit: FinishCommit): OrderingStore {
  const { read, write, d } = ctx;
  return {
    finishInLine: (delivery, owner, attempt, next, passOnUntilMs) =>
      commit.finish({ delivery, owner, attempt, next, passOnUntilMs }),
    countWaitingBehind: (deliveryId) => read(() => countWaitingBehind(deliveryId)),
    releaseHold: (deliveryId, now = Date.now()) => write(() => releaseHold(d, deliveryId, now)),
  };
}
