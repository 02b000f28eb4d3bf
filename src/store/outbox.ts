import { parseEvent } from '../event-json';
import { NEXT_PROBE, NOT_HELD, readHolds, releaseHeld, takeProbes } from './breakers';
import { chooseClaimed, probeRoom, type Hold } from '../delivery/decisions';
import type { StoreContext } from './context';
import { recordActivity } from './dashboard';
import { LOCK_SPACE } from './locks';
import { all, get, lockNames, notifyWork, rows, run, type Dialect, type RowSource, type Script } from './sql';
import { earliestDue, inTurn } from './ordering';
import type { OutboxStore, RateLimitStore } from './store';
import type { AttemptRecord, ClaimOptions, ClaimedDelivery, DeliveryNext } from '../delivery/types';

/** A finished attempt: recorded, and the delivery moved on if the lease is still `owner`'s. */
export interface FinishWrite {
  delivery: ClaimedDelivery;
  owner: string;
  attempt: AttemptRecord;
  next: DeliveryNext;
  /**
   * A delivery of a payout's line (an ordered destination): the line's next delivery, when this finish brings its
   * turn and it is due, is leased to `owner` until then in the same commit (src/store/ordering.ts, passOnInLine).
   */
  passOnUntilMs?: number | undefined;
}

interface DueRow {
  id: string;
  event_id: string;
  destination: string;
  rules: string;
  attempts: number;
  next_attempt_ms: number;
  payout_key: string | null;
}

const DUE_COLUMNS = 'id, event_id, destination, rules, attempts, next_attempt_ms, payout_key';

/** What a claim found due, under the destinations' locks: rows, live in-flight counts, rate slots. */
interface Due {
  rows: DueRow[];
  inFlight: Map<string, number>;
  slots: Map<string, number>;
  /** Open or paused destinations (src/store/breakers.ts): none of their rows is due but an open one's probe. */
  holds: Map<string, Hold>;
}

/**
 * Leases due deliveries to `o.owner`: pending and due, or in flight with an expired lease (a crashed process's
 * sends). The per-destination in-flight limit holds across processes: each destination's count is read under its
 * lock (PostgreSQL: advisory locks in name order; SQLite: the write transaction) and the leases are written before
 * it is let go. PostgreSQL's SKIP LOCKED lets claimers in several processes take different rows without waiting.
 */
function* claim(d: Dialect, o: ClaimOptions): Script<ClaimedDelivery[]> {
  const due = yield* readDue(d, o);
  if (due === undefined) return [];
  // One per payout's line, within each destination's limit and rate slot (src/delivery/decisions.ts).
  const candidates = due.rows.map((r) => ({ ...r, key: r.payout_key ?? undefined }));
  const { chosen, taken } = chooseClaimed(candidates, due.inFlight, due.slots, o);
  yield* rows(
    `INSERT INTO destination_slots (destination, next_ms) SELECT r.destination, r.next_ms FROM :rows AS r WHERE true
     ON CONFLICT (destination) DO UPDATE SET next_ms = excluded.next_ms`,
    {
      columns: [
        ['destination', 'text'],
        ['next_ms', 'bigint'],
      ],
      rows: [...taken],
    },
  );
  if (chosen.length === 0) return [];
  yield* run(
    `UPDATE deliveries SET state = 'inflight', lease_owner = ?, lease_until_ms = ?, attempts = attempts + 1,
       updated_ms = ? WHERE id ${d.inList}`,
    [o.owner, o.now + o.leaseMs, o.now, d.list(chosen.map((r) => r.id))],
  );
  const probes = chosen.filter((r) => due.holds.has(r.destination));
  yield* takeProbes(d, probes, due.holds, o.now);
  const bodies = yield* all<{ id: string; body: string }>(`SELECT id, body FROM events WHERE id ${d.inList}`, [
    d.list([...new Set(chosen.map((r) => r.event_id))]),
  ]);
  const bodyOf = new Map(bodies.map((r) => [r.id, r.body]));
  return chosen.map((row) => ({
    id: row.id,
    eventId: row.event_id,
    destination: row.destination,
    rules: JSON.parse(row.rules) as string[],
    attempt: Number(row.attempts) + 1,
    event: parseEvent(bodyOf.get(row.event_id) as string),
    ...(probes.includes(row) ? { probe: true as const } : {}),
  }));
}

/** The rows due, each destination read no further than its free slots (a saturated one reads nothing). */
function* readDue(d: Dialect, o: ClaimOptions): Script<Due | undefined> {
  // Expired leases are few: at most the in-flight limits' worth.
  const expired = yield* all<DueRow>(
    `SELECT ${DUE_COLUMNS} FROM deliveries WHERE state = 'inflight' AND lease_until_ms < ?
     ORDER BY next_attempt_ms LIMIT ?${d.forUpdateSkipLocked}`,
    [o.now, o.max],
  );
  // The destinations with pending work, one index seek each (a loose scan of deliveries_pending).
  const pending = yield* all<{ name: string }>(
    `WITH RECURSIVE pending(name) AS (
       SELECT (SELECT min(destination) FROM deliveries WHERE state = 'pending')
       UNION ALL
       SELECT (SELECT min(destination) FROM deliveries WHERE state = 'pending' AND destination > pending.name)
       FROM pending WHERE pending.name IS NOT NULL)
     SELECT name FROM pending WHERE name IS NOT NULL`,
  );
  const destinations = [...new Set([...expired.map((r) => r.destination), ...pending.map((r) => r.name)])];
  if (destinations.length === 0) return undefined;
  yield* lockNames(d, LOCK_SPACE.destination, destinations);
  const counts = yield* all<{ destination: string; n: number }>(
    `SELECT destination, count(*) AS n FROM deliveries
     WHERE state = 'inflight' AND lease_until_ms >= ? AND destination ${d.inList} GROUP BY destination`,
    [o.now, d.list(destinations)],
  );
  const inFlight = new Map(counts.map((r) => [r.destination, Number(r.n)]));
  // Slots are read and taken under the destinations' locks, so two processes never take the same one.
  const slotRows = yield* all<{ destination: string; next_ms: number }>(
    `SELECT destination, next_ms FROM destination_slots WHERE destination ${d.inList}`,
    [d.list(destinations)],
  );
  const slots = new Map(slotRows.map((r) => [r.destination, Number(r.next_ms)]));
  // Breakers: a held destination's crashed sends go back to pending; its pending rows wait, but an open one's probe.
  const holds = yield* readHolds(d, destinations);
  yield* releaseHeld(
    d,
    expired.filter((r) => holds.has(r.destination)).map((r) => r.id),
    o.now,
  );
  const due = expired.filter((r) => !holds.has(r.destination));
  for (const { name } of pending) {
    // A destination waiting for its slot (a pause, a rate limit) reads nothing; a rate-limited one at most one row.
    if ((slots.get(name) ?? 0) > o.now) continue;
    const free = o.maxInFlight(name) - (inFlight.get(name) ?? 0);
    const limit = Math.min(
      o.minIntervalMs?.(name) === undefined ? free : Math.min(free, 1),
      o.max,
      probeRoom(holds.get(name), o.now, inFlight.get(name) ?? 0) ?? Infinity,
    );
    if (limit <= 0) continue;
    due.push(
      ...(yield* all<DueRow>(
        `SELECT ${DUE_COLUMNS} FROM deliveries
         WHERE state = 'pending' AND destination = ? AND next_attempt_ms <= ? AND ${inTurn('deliveries')}
         ORDER BY next_attempt_ms LIMIT ?${d.forUpdateSkipLocked}`,
        [name, o.now, limit],
      )),
    );
  }
  return { rows: due.sort((a, b) => a.next_attempt_ms - b.next_attempt_ms), inFlight, slots, holds };
}

const ATTEMPT_COLUMNS: RowSource['columns'] = [
  ['delivery_id', 'text'],
  ['attempt', 'int'],
  ['started_ms', 'bigint'],
  ['duration_ms', 'bigint'],
  ['outcome', 'text'],
  ['status', 'int'],
  ['error', 'text'],
  ['response', 'text'],
];

const MOVE_COLUMNS: RowSource['columns'] = [
  ['id', 'text'],
  ['owner', 'text'],
  ['state', 'text'],
  ['next_ms', 'bigint'],
  ['status', 'int'],
  ['error', 'text'],
];

/**
 * Finished attempts, in the group commit: each recorded (the send happened), and its delivery moved on only if the
 * lease is still its owner's.
 */
export function* finishAttempts(d: Dialect, finishes: readonly FinishWrite[], now: number): Script<void> {
  if (finishes.length === 0) return;
  yield* rows(
    `INSERT INTO attempts (delivery_id, attempt, started_ms, duration_ms, outcome, status, error, response)
     SELECT r.delivery_id, r.attempt, r.started_ms, r.duration_ms, r.outcome, r.status, r.error, r.response
     FROM :rows AS r`,
    {
      columns: ATTEMPT_COLUMNS,
      rows: finishes.map(({ delivery, attempt: a }) => [
        delivery.id,
        delivery.attempt,
        a.startedAt,
        Math.round(a.durationMs),
        a.outcome,
        a.status ?? null,
        a.error ?? null,
        a.response ?? null,
      ]),
    },
  );
  yield* rows(
    `UPDATE deliveries SET state = r.state, next_attempt_ms = coalesce(r.next_ms, deliveries.next_attempt_ms),
       lease_owner = NULL, lease_until_ms = NULL, updated_ms = ?, last_status = r.status, last_error = r.error
     FROM :rows AS r WHERE deliveries.id = r.id AND deliveries.state = 'inflight' AND deliveries.lease_owner = r.owner`,
    {
      columns: MOVE_COLUMNS,
      rows: finishes.map(({ delivery, owner, attempt: a, next }) => [
        delivery.id,
        owner,
        next.state,
        next.state === 'pending' ? next.nextAttemptMs : null,
        a.status ?? null,
        a.error ?? null,
      ]),
    },
    [now],
  );
  yield* recordActivity(
    d,
    finishes.map((f) => ({ destination: f.delivery.destination, attempt: f.attempt })),
  );
}

/**
 * When the next pending delivery falls due or a lease expires (ms epoch). A destination waiting for its rate slot
 * or a pause counts from when that ends, not from its deliveries' due times, which have passed: else the worker
 * would claim again every few ms for nothing.
 */
function* nextWakeAt(d: Dialect, now: number): Script<number | undefined> {
  const row = yield* get<{ t: number | null }>(
    `SELECT min(t) AS t FROM (
       ${earliestDue(d, `destination NOT IN (SELECT destination FROM destination_slots WHERE next_ms > ?) AND ${NOT_HELD}`)}
       UNION ALL SELECT min(s.next_ms) AS t FROM destination_slots s WHERE s.next_ms > ?
         AND EXISTS (SELECT 1 FROM deliveries d WHERE d.destination = s.destination AND d.state = 'pending')
       UNION ALL ${NEXT_PROBE}
       UNION ALL SELECT min(lease_until_ms) AS t FROM deliveries WHERE state = 'inflight') AS wake`,
    [now, now, now, now],
  );
  return row?.t == null ? undefined : Number(row.t);
}

/** The group commit finished attempts share with callbacks (src/store/commit.ts). */
interface FinishCommit {
  finish(finish: FinishWrite): Promise<unknown>;
  flush(): Promise<void>;
}

export function createOutboxStore(ctx: StoreContext, commit: FinishCommit): OutboxStore & RateLimitStore {
  const { readQuick, write, d, driver } = ctx;
  return {
    claimDeliveries: (options) => write(() => claim(d, options)),
    renewLeases: async (owner, ids, leaseUntilMs) => {
      if (ids.length === 0) return;
      await write(() =>
        run(
          `UPDATE deliveries SET lease_until_ms = ? WHERE id ${d.inList} AND ${d.noIndex}state = 'inflight' AND lease_owner = ?`,
          [leaseUntilMs, d.list([...ids]), owner],
        ),
      );
    },
    // Shares the group commit of whatever else is written in this turn (callbacks, other finishes).
    finishAttempt: async (delivery, owner, attempt, next) => {
      await commit.finish({ delivery, owner, attempt, next });
    },
    releaseLeases: async (owner, ids) => {
      if (ids.length === 0) return;
      // After finishes still queued: a delivery finished in the same turn is not handed back.
      await commit.flush();
      const now = Date.now();
      await write(function* () {
        // The attempt taken at claim time is given back: a send that never started is not an attempt.
        const released = yield* run(
          `UPDATE deliveries SET state = 'pending', attempts = ${d.greatest}(attempts - 1, 0), next_attempt_ms = ?,
             lease_owner = NULL, lease_until_ms = NULL, updated_ms = ?
           WHERE id ${d.inList} AND ${d.noIndex}state = 'inflight' AND lease_owner = ?`,
          [now, now, d.list([...ids]), owner],
        );
        if (released > 0) yield* notifyWork(d, 'released');
      });
    },
    // After every round of sends: it must not wait behind a dashboard's listing on the read thread.
    nextWakeAt: () => readQuick(() => nextWakeAt(d, Date.now())),
    onNewWork: (listener) => driver.onNewWork(listener),
    pauseDestination: async (destination, untilMs) => {
      // Never shortens a pause or a slot already taken further ahead.
      await write(() =>
        run(
          `INSERT INTO destination_slots (destination, next_ms) VALUES (?, ?)
           ON CONFLICT (destination) DO UPDATE SET next_ms = ${d.greatest}(destination_slots.next_ms, excluded.next_ms)`,
          [destination, untilMs],
        ),
      );
    },
  };
}
