import type Database from 'better-sqlite3';
import { parseEvent } from '../../event-json';
import type { AttemptRecord, ClaimOptions, ClaimedDelivery, DeliveryNext } from '../types';

interface DueRow {
  id: string;
  event_id: string;
  destination: string;
  rules: string;
  attempts: number;
  next_attempt_ms: number;
}

/**
 * The outbox's SQL. Claims run in one IMMEDIATE transaction, so two
 * processes on one file can never lease the same delivery, and the
 * per-destination in-flight count is global, not per process.
 */
export function prepareOutbox(db: Database.Database) {
  // Two index-ordered reads instead of one OR (which sorted every due row, bodies included, on each claim);
  // bodies are read only for what is claimed.
  const selectPending = db.prepare(`
    SELECT id, event_id, destination, rules, attempts, next_attempt_ms FROM deliveries
    WHERE state = 'pending' AND next_attempt_ms <= @now ORDER BY next_attempt_ms LIMIT @limit`);
  const selectExpired = db.prepare(`
    SELECT id, event_id, destination, rules, attempts, next_attempt_ms FROM deliveries
    WHERE state = 'inflight' AND lease_until_ms < @now ORDER BY next_attempt_ms LIMIT @limit`);
  const selectBody = db.prepare('SELECT body FROM events WHERE id = ?').pluck();
  const selectDue = (p: { now: number; limit: number }): DueRow[] =>
    [...selectExpired.all(p), ...selectPending.all(p)]
      .sort((a, b) => (a as DueRow).next_attempt_ms - (b as DueRow).next_attempt_ms)
      .slice(0, p.limit) as DueRow[];
  const countInFlight = db.prepare(`
    SELECT destination, count(*) AS n FROM deliveries
    WHERE state = 'inflight' AND lease_until_ms >= ? GROUP BY destination`);
  const lease = db.prepare(`
    UPDATE deliveries SET state = 'inflight', lease_owner = ?, lease_until_ms = ?, attempts = attempts + 1, updated_ms = ?
    WHERE id = ?`);
  const insertAttempt = db.prepare(`
    INSERT INTO attempts (delivery_id, attempt, started_ms, duration_ms, outcome, status, error, response)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const moveOn = db.prepare(`
    UPDATE deliveries SET state = @state, next_attempt_ms = coalesce(@next, next_attempt_ms), lease_owner = NULL,
      lease_until_ms = NULL, updated_ms = @now, last_status = @status, last_error = @error
    WHERE id = @id AND state = 'inflight' AND lease_owner = @owner`);
  const renew = db.prepare(`
    UPDATE deliveries SET lease_until_ms = ? WHERE id = ? AND state = 'inflight' AND lease_owner = ?`);
  // The attempt taken at claim time is given back: a send that never started is not an attempt.
  const release = db.prepare(`
    UPDATE deliveries SET state = 'pending', attempts = max(attempts - 1, 0), next_attempt_ms = @now,
      lease_owner = NULL, lease_until_ms = NULL, updated_ms = @now
    WHERE id = @id AND state = 'inflight' AND lease_owner = @owner`);
  // A destination waiting for its rate slot or a pause counts from when that ends, not from its deliveries' due
  // times, which have passed: else the worker would claim again every few ms for nothing.
  const nextWake = db.prepare(`
    SELECT min(t) AS t FROM (
      SELECT min(next_attempt_ms) AS t FROM deliveries WHERE state = 'pending'
        AND destination NOT IN (SELECT destination FROM destination_slots WHERE next_ms > @now)
      UNION ALL SELECT min(s.next_ms) FROM destination_slots s WHERE s.next_ms > @now
        AND EXISTS (SELECT 1 FROM deliveries d WHERE d.destination = s.destination AND d.state = 'pending')
      UNION ALL SELECT min(lease_until_ms) FROM deliveries WHERE state = 'inflight')`);
  const selectSlots = db.prepare('SELECT destination, next_ms FROM destination_slots');
  const takeSlot = db.prepare(`
    INSERT INTO destination_slots (destination, next_ms) VALUES (?, ?)
    ON CONFLICT (destination) DO UPDATE SET next_ms = excluded.next_ms`);

  const claim = db.transaction((o: ClaimOptions): ClaimedDelivery[] => {
    const inFlight = new Map<string, number>();
    for (const r of countInFlight.all(o.now) as { destination: string; n: number }[]) inFlight.set(r.destination, r.n);
    const slots = new Map<string, number>();
    for (const r of selectSlots.all() as { destination: string; next_ms: number }[])
      slots.set(r.destination, r.next_ms);
    // Look further than `max` so one saturated destination does not hide others' work.
    const rows = selectDue({ now: o.now, limit: o.max * 8 });
    const claimed: ClaimedDelivery[] = [];
    for (const row of rows) {
      if (claimed.length >= o.max) break;
      const busy = inFlight.get(row.destination) ?? 0;
      if (busy >= o.maxInFlight(row.destination)) continue;
      // Paused (a 429) or rate-limited: its slot must have come, and taking it sets the next one.
      if ((slots.get(row.destination) ?? 0) > o.now) continue;
      const interval = o.minIntervalMs?.(row.destination);
      if (interval !== undefined) {
        slots.set(row.destination, o.now + interval);
        takeSlot.run(row.destination, o.now + interval);
      }
      inFlight.set(row.destination, busy + 1);
      lease.run(o.owner, o.now + o.leaseMs, o.now, row.id);
      claimed.push({
        id: row.id,
        eventId: row.event_id,
        destination: row.destination,
        rules: JSON.parse(row.rules) as string[],
        attempt: row.attempts + 1,
        event: parseEvent(selectBody.get(row.event_id) as string),
      });
    }
    return claimed;
  });

  const finish = db.transaction((d: ClaimedDelivery, owner: string, a: AttemptRecord, next: DeliveryNext) => {
    insertAttempt.run(
      d.id,
      d.attempt,
      a.startedAt,
      a.durationMs,
      a.outcome,
      a.status ?? null,
      a.error ?? null,
      a.response ?? null,
    );
    moveOn.run({
      id: d.id,
      owner,
      state: next.state,
      now: Date.now(),
      next: next.state === 'pending' ? next.nextAttemptMs : null,
      status: a.status ?? null,
      error: a.error ?? null,
    });
  });

  const renewAll = db.transaction((owner: string, ids: readonly string[], until: number) => {
    for (const id of ids) renew.run(until, id, owner);
  });
  const releaseAll = db.transaction((owner: string, ids: readonly string[], now: number) => {
    for (const id of ids) release.run({ id, owner, now });
  });

  return {
    claim: (o: ClaimOptions) => claim.immediate(o),
    finish: (d: ClaimedDelivery, owner: string, a: AttemptRecord, next: DeliveryNext) =>
      finish.immediate(d, owner, a, next),
    renew: (owner: string, ids: readonly string[], until: number) => renewAll.immediate(owner, ids, until),
    release: (owner: string, ids: readonly string[], now: number) => releaseAll.immediate(owner, ids, now),
    nextWakeAt: (now: number) => (nextWake.get({ now }) as { t: number | null }).t ?? undefined,
  };
}
