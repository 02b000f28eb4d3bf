import type { ClientBase, Pool } from 'pg';
import { parseEvent } from '../../event-json';
import type { AttemptRecord, ClaimOptions, ClaimedDelivery, DeliveryNext, NewDelivery } from '../types';
import { LOCK_SPACE, WORK_CHANNEL } from './locks';

interface DueRow {
  id: string;
  event_id: string;
  destination: string;
  rules: string;
  attempts: number;
  next_attempt_ms: number;
}

/**
 * Claims due deliveries in the caller's transaction. Rows are locked FOR
 * UPDATE SKIP LOCKED, so instances claiming at once take different rows and
 * never wait for each other's. The per-destination limit holds across hosts:
 * each destination's in-flight count is read under a transaction advisory
 * lock for that destination (taken in name order, so claimers cannot
 * deadlock), and the leases are written before that lock is let go at COMMIT.
 */
/** New deliveries of one event, pending from `ms`, in one statement. */
export async function insertDeliveries(
  client: Pick<ClientBase, 'query'>,
  eventId: string,
  ms: number,
  deliveries: readonly NewDelivery[],
): Promise<void> {
  if (deliveries.length === 0) return;
  await client.query(
    `INSERT INTO deliveries (id, event_id, destination, rules, state, next_attempt_ms, created_ms, updated_ms)
     SELECT d.id, $1, d.destination, d.rules, 'pending', $2, $2, $2
     FROM unnest($3::text[], $4::text[], $5::text[]) AS d (id, destination, rules)`,
    [
      eventId,
      ms,
      deliveries.map((d) => d.id),
      deliveries.map((d) => d.destination),
      deliveries.map((d) => JSON.stringify(d.rules)),
    ],
  );
}

/**
 * Takes each destination's advisory lock, in name order so two holders cannot deadlock, and counts its live
 * in-flight deliveries: what a claim and a lease at ingest both check maxInFlight against. The locks are held until
 * the transaction ends, so no other instance counts meanwhile.
 */
export async function lockDestinations(
  client: ClientBase,
  destinations: readonly string[],
  now: number,
): Promise<Map<string, number>> {
  for (const destination of [...destinations].sort()) {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_SPACE.destination, destination]);
  }
  const counts = await client.query<{ destination: string; n: number }>(
    `SELECT destination, count(*) AS n FROM deliveries
     WHERE state = 'inflight' AND lease_until_ms >= $1 AND destination = ANY($2) GROUP BY destination`,
    [now, destinations],
  );
  return new Map(counts.rows.map((r) => [r.destination, r.n]));
}

export async function claim(client: ClientBase, o: ClaimOptions): Promise<ClaimedDelivery[]> {
  // Expired leases (a crashed instance's sends) are few: at most the in-flight limits' worth.
  const expired = await client.query<DueRow>(
    `SELECT id, event_id, destination, rules, attempts, next_attempt_ms FROM deliveries
     WHERE state = 'inflight' AND lease_until_ms < $1 ORDER BY next_attempt_ms LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [o.now, o.max],
  );
  // The destinations with pending work, one index probe each (a loose scan of deliveries_pending).
  const pending = await client.query<{ name: string }>(
    `WITH RECURSIVE pending(name) AS (
       SELECT (SELECT min(destination) FROM deliveries WHERE state = 'pending')
       UNION ALL
       SELECT (SELECT min(destination) FROM deliveries WHERE state = 'pending' AND destination > pending.name)
       FROM pending WHERE pending.name IS NOT NULL)
     SELECT name FROM pending WHERE name IS NOT NULL`,
  );
  const destinations = [...new Set([...expired.rows.map((r) => r.destination), ...pending.rows.map((r) => r.name)])];
  if (destinations.length === 0) return [];
  const inFlight = await lockDestinations(client, destinations, o.now);
  // Slots are read and taken under the destinations' locks above, so two hosts never take the same one.
  const slotRows = await client.query<{ destination: string; next_ms: number }>(
    'SELECT destination, next_ms FROM destination_slots WHERE destination = ANY($1)',
    [destinations],
  );
  const slots = new Map(slotRows.rows.map((r) => [r.destination, Number(r.next_ms)]));
  const taken = new Map<string, number>();
  // Each destination's read is limited to its free slots (and max): a saturated one locks and reads nothing.
  const rows = [...expired.rows];
  for (const { name } of pending.rows) {
    // A destination waiting for its slot (a pause, a rate limit) reads nothing; a rate-limited one at most one row.
    if ((slots.get(name) ?? 0) > o.now) continue;
    const free = o.maxInFlight(name) - (inFlight.get(name) ?? 0);
    const limit = Math.min(o.minIntervalMs?.(name) === undefined ? free : Math.min(free, 1), o.max);
    if (limit <= 0) continue;
    const due = await client.query<DueRow>(
      `SELECT id, event_id, destination, rules, attempts, next_attempt_ms FROM deliveries
       WHERE state = 'pending' AND destination = $1 AND next_attempt_ms <= $2
       ORDER BY next_attempt_ms LIMIT $3 FOR UPDATE SKIP LOCKED`,
      [name, o.now, limit],
    );
    rows.push(...due.rows);
  }
  rows.sort((a, b) => a.next_attempt_ms - b.next_attempt_ms);
  const chosen: DueRow[] = [];
  for (const row of rows) {
    if (chosen.length >= o.max) break;
    const busy = inFlight.get(row.destination) ?? 0;
    if (busy >= o.maxInFlight(row.destination)) continue;
    // Paused (a 429) or rate-limited: its slot must have come, and taking it sets the next one.
    if ((slots.get(row.destination) ?? 0) > o.now) continue;
    const interval = o.minIntervalMs?.(row.destination);
    if (interval !== undefined) {
      slots.set(row.destination, o.now + interval);
      taken.set(row.destination, o.now + interval);
    }
    inFlight.set(row.destination, busy + 1);
    chosen.push(row);
  }
  if (taken.size > 0) {
    await client.query(
      `INSERT INTO destination_slots (destination, next_ms) SELECT * FROM unnest($1::text[], $2::bigint[])
       ON CONFLICT (destination) DO UPDATE SET next_ms = excluded.next_ms`,
      [[...taken.keys()], [...taken.values()]],
    );
  }
  if (chosen.length === 0) return [];
  const ids = chosen.map((r) => r.id);
  await client.query(
    `UPDATE deliveries SET state = 'inflight', lease_owner = $1, lease_until_ms = $2, attempts = attempts + 1,
       updated_ms = $3 WHERE id = ANY($4)`,
    [o.owner, o.now + o.leaseMs, o.now, ids],
  );
  const bodies = await client.query<{ id: string; body: string }>('SELECT id, body FROM events WHERE id = ANY($1)', [
    [...new Set(chosen.map((r) => r.event_id))],
  ]);
  const bodyOf = new Map(bodies.rows.map((r) => [r.id, r.body]));
  return chosen.map((row) => ({
    id: row.id,
    eventId: row.event_id,
    destination: row.destination,
    rules: JSON.parse(row.rules) as string[],
    attempt: row.attempts + 1,
    event: parseEvent(bodyOf.get(row.event_id) as string),
  }));
}

/**
 * The attempt is recorded (the send happened), and the delivery moves on only
 * if the lease is still `owner`'s: one statement, so it is atomic without a
 * transaction of its own.
 */
export async function finish(
  pool: Pool,
  d: ClaimedDelivery,
  owner: string,
  a: AttemptRecord,
  next: DeliveryNext,
): Promise<void> {
  await pool.query(
    `WITH attempt AS (
       INSERT INTO attempts (delivery_id, attempt, started_ms, duration_ms, outcome, status, error, response)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     )
     UPDATE deliveries SET state = $9, next_attempt_ms = coalesce($10, next_attempt_ms), lease_owner = NULL,
       lease_until_ms = NULL, updated_ms = $11, last_status = $6, last_error = $7
     WHERE id = $1 AND state = 'inflight' AND lease_owner = $12`,
    [
      d.id,
      d.attempt,
      a.startedAt,
      Math.round(a.durationMs),
      a.outcome,
      a.status ?? null,
      a.error ?? null,
      a.response ?? null,
      next.state,
      next.state === 'pending' ? next.nextAttemptMs : null,
      Date.now(),
      owner,
    ],
  );
}

export async function renew(pool: Pool, owner: string, ids: readonly string[], leaseUntilMs: number): Promise<void> {
  if (ids.length === 0) return;
  await pool.query(
    `UPDATE deliveries SET lease_until_ms = $1
     WHERE id = ANY($2) AND state = 'inflight' AND lease_owner = $3`,
    [leaseUntilMs, [...ids], owner],
  );
}

/** Back to pending, due now, the attempt the claim counted taken back; and other instances are told. */
export async function release(client: ClientBase, owner: string, ids: readonly string[], now: number): Promise<void> {
  if (ids.length === 0) return;
  const { rowCount } = await client.query(
    `UPDATE deliveries SET state = 'pending', lease_owner = NULL, lease_until_ms = NULL,
       attempts = greatest(attempts - 1, 0), next_attempt_ms = $1, updated_ms = $1
     WHERE id = ANY($2) AND state = 'inflight' AND lease_owner = $3`,
    [now, [...ids], owner],
  );
  if (rowCount) await client.query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, 'released']);
}

/**
 * A destination waiting for its rate slot or a pause counts from when that ends, not from its deliveries' due
 * times, which have passed: else the worker would claim again every few ms for nothing.
 */
export async function nextWakeAt(pool: Pool, now: number): Promise<number | undefined> {
  const { rows } = await pool.query<{ t: number | null }>(
    `SELECT least(
       (SELECT min(next_attempt_ms) FROM deliveries WHERE state = 'pending'
          AND destination NOT IN (SELECT destination FROM destination_slots WHERE next_ms > $1)),
       (SELECT min(s.next_ms) FROM destination_slots s WHERE s.next_ms > $1
          AND EXISTS (SELECT 1 FROM deliveries d WHERE d.destination = s.destination AND d.state = 'pending')),
       (SELECT min(lease_until_ms) FROM deliveries WHERE state = 'inflight')) AS t`,
    [now],
  );
  return rows[0]?.t ?? undefined;
}
