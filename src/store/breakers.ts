import type { StoreContext } from './context';
import { all, get, notifyWork, run, type Dialect, type Script } from './sql';
import type { BreakerStore } from './store';
import type { Hold } from '../delivery/decisions';
import type { BreakerChange, BreakerFailure, BreakerReason, BreakerRecord, BreakerState } from '../delivery/types';

/**
 * Destinations' breakers, one row each in destination_states, shared by every process: failures in a row open a
 * breaker, a success closes it, an operator or a 410 Gone pauses it. Each change is made under the row's lock and
 * returned only to the transaction that made it, so one process raises its alert. The claim's side (what an open or
 * paused destination may send) is readHolds and takeProbes, called from src/store/outbox.ts.
 */

/** How many of a destination's last errors its row keeps (what destination.unhealthy quotes). */
const KEPT_ERRORS = 3;

interface StateRow {
  destination: string;
  state: BreakerState;
  reason: BreakerReason | null;
  failures: number;
  since_ms: number | null;
  probe_interval_ms: number | null;
  probe_ms: number | null;
  paused_by: string | null;
  alerted: number;
  last_errors: string | null;
  last_error_ms: number | null;
}

const num = (v: unknown): number | null => (v == null ? null : Number(v));

function toRecord(r: StateRow): BreakerRecord {
  return {
    destination: r.destination,
    state: r.state,
    reason: r.reason,
    failures: Number(r.failures),
    sinceMs: num(r.since_ms),
    probeMs: num(r.probe_ms),
    pausedBy: r.paused_by,
    lastErrors: r.last_errors ? (JSON.parse(r.last_errors) as string[]) : [],
    lastErrorMs: num(r.last_error_ms),
  };
}

/** The destination's row, locked for the rest of the transaction; made (closed) when it has none. */
function* lockRow(d: Dialect, destination: string, now: number): Script<StateRow> {
  yield* run(
    `INSERT INTO destination_states (destination, state, failures, alerted, updated_ms) VALUES (?, 'closed', 0, 0, ?)
     ON CONFLICT (destination) DO NOTHING`,
    [destination, now],
  );
  const row = yield* get<StateRow>(`SELECT * FROM destination_states WHERE destination = ?${d.forUpdate}`, [
    destination,
  ]);
  if (!row) throw new Error(`destination_states row for ${destination} vanished`);
  return row;
}

/** Deliveries waiting for the destination: pending or in flight (both read through their partial indexes). */
function* countBacklog(destination: string): Script<number> {
  const row = yield* get<{ n: number }>(
    `SELECT (SELECT count(*) FROM deliveries WHERE state = 'pending' AND destination = ?)
       + (SELECT count(*) FROM deliveries WHERE state = 'inflight' AND destination = ?) AS n`,
    [destination, destination],
  );
  return Number(row?.n ?? 0);
}

function* change(
  row: StateRow,
  to: BreakerState,
  fields: Pick<BreakerChange, 'reason' | 'sinceMs' | 'atMs' | 'alert' | 'lastErrors'> & { by?: string | undefined },
): Script<BreakerChange> {
  return {
    destination: row.destination,
    from: row.state,
    to,
    ...fields,
    backlog: yield* countBacklog(row.destination),
  };
}

/**
 * A retryable failure: counted while closed, and the one that reaches `threshold` opens the breaker (its first
 * probe one interval later). While open or paused only the error is kept. Resolves the change if this failure
 * opened it, and the state after it either way.
 */
function* recordFailure(d: Dialect, f: BreakerFailure): Script<{ state: BreakerState; change?: BreakerChange }> {
  const row = yield* lockRow(d, f.destination, f.now);
  const lastErrors = [f.error, ...(row.last_errors ? (JSON.parse(row.last_errors) as string[]) : [])].slice(
    0,
    KEPT_ERRORS,
  );
  const errors = JSON.stringify(lastErrors);
  const failures = Number(row.failures) + 1;
  if (row.state !== 'closed' || failures < f.threshold) {
    yield* run(
      `UPDATE destination_states SET failures = ?, last_errors = ?, last_error_ms = ?, updated_ms = ?
       WHERE destination = ?`,
      [row.state === 'closed' ? failures : Number(row.failures), errors, f.now, f.now, f.destination],
    );
    return { state: row.state };
  }
  yield* run(
    `UPDATE destination_states SET state = 'open', reason = 'failures', failures = ?, since_ms = ?,
       probe_interval_ms = ?, probe_ms = ?, alerted = 1, last_errors = ?, last_error_ms = ?, updated_ms = ?
     WHERE destination = ?`,
    [failures, f.now, f.probeIntervalMs, f.now + f.probeIntervalMs, errors, f.now, f.now, f.destination],
  );
  const opened = yield* change(row, 'open', {
    reason: 'failures',
    sinceMs: f.now,
    atMs: f.now,
    alert: 'unhealthy',
    lastErrors,
  });
  return { state: 'open', change: opened };
}

/**
 * Back to closed, its backlog due now (retries waiting out a backoff from before the outage go with the rest, oldest
 * first), and other processes' workers woken. Owes destination.recovered when the outage raised an unhealthy.
 */
function* close(d: Dialect, row: StateRow, now: number, by?: string): Script<BreakerChange> {
  yield* run(
    `UPDATE destination_states SET state = 'closed', reason = NULL, failures = 0, since_ms = NULL, probe_ms = NULL,
       paused_by = NULL, alerted = 0, updated_ms = ? WHERE destination = ?`,
    [now, row.destination],
  );
  yield* run(
    `UPDATE deliveries SET next_attempt_ms = ? WHERE state = 'pending' AND destination = ? AND next_attempt_ms > ?`,
    [now, row.destination, now],
  );
  yield* notifyWork(d, 'resumed');
  return yield* change(row, 'closed', {
    reason: row.reason ?? undefined,
    sinceMs: num(row.since_ms) ?? now,
    atMs: now,
    alert: Number(row.alerted) === 1 ? 'recovered' : undefined,
    lastErrors: row.last_errors ? (JSON.parse(row.last_errors) as string[]) : [],
    by,
  });
}

/** A success: the count starts again, and an open breaker closes (its probe went through). A pause stays. */
function* recordSuccess(d: Dialect, destination: string, now: number): Script<BreakerChange | undefined> {
  const row = yield* get<StateRow>(`SELECT * FROM destination_states WHERE destination = ?${d.forUpdate}`, [
    destination,
  ]);
  if (!row) return undefined;
  if (row.state === 'open') return yield* close(d, row, now);
  if (row.state === 'closed' && Number(row.failures) > 0) {
    yield* run('UPDATE destination_states SET failures = 0, updated_ms = ? WHERE destination = ?', [now, destination]);
  }
  return undefined;
}

/**
 * Nothing is sent to the destination until it is resumed. A 410 Gone raises destination.unhealthy unless this
 * outage already did; a pause by hand raises nothing (its operator knows). Undefined when it was paused already.
 */
function* pause(
  d: Dialect,
  p: { destination: string; now: number; reason: 'gone' | 'manual'; by?: string | undefined; error?: string },
): Script<BreakerChange | undefined> {
  const row = yield* lockRow(d, p.destination, p.now);
  if (row.state === 'paused') return undefined;
  const kept = row.last_errors ? (JSON.parse(row.last_errors) as string[]) : [];
  const lastErrors = p.error === undefined ? kept : [p.error, ...kept].slice(0, KEPT_ERRORS);
  const alert = p.reason === 'gone' && Number(row.alerted) === 0 ? 'unhealthy' : undefined;
  // An outage already under way keeps its start.
  const sinceMs = row.state === 'open' ? (num(row.since_ms) ?? p.now) : p.now;
  yield* run(
    `UPDATE destination_states SET state = 'paused', reason = ?, since_ms = ?, probe_ms = NULL, paused_by = ?,
       alerted = ?, last_errors = ?, last_error_ms = ${p.error === undefined ? 'last_error_ms' : '?'}, updated_ms = ?
     WHERE destination = ?`,
    [
      p.reason,
      sinceMs,
      p.by ?? null,
      alert === undefined ? Number(row.alerted) : 1,
      JSON.stringify(lastErrors),
      ...(p.error === undefined ? [] : [p.now]),
      p.now,
      p.destination,
    ],
  );
  return yield* change(row, 'paused', { reason: p.reason, sinceMs, atMs: p.now, alert, lastErrors, by: p.by });
}

/** By hand: a paused or open destination closes and sends again. Undefined when it was closed already. */
function* resume(d: Dialect, destination: string, now: number, by: string): Script<BreakerChange | undefined> {
  const row = yield* get<StateRow>(`SELECT * FROM destination_states WHERE destination = ?${d.forUpdate}`, [
    destination,
  ]);
  if (!row || row.state === 'closed') return undefined;
  return yield* close(d, row, now, by);
}

/**
 * The configured probe intervals, applied to breakers open now (a restart with new settings takes effect at once),
 * and the breakers of destinations configured without one closed: nothing would ever probe them. Pauses are kept.
 */
function* applySettings(
  settings: readonly { destination: string; probeIntervalMs: number | undefined }[],
  now: number,
): Script<void> {
  for (const s of settings) {
    if (s.probeIntervalMs === undefined) {
      yield* run(
        `UPDATE destination_states SET state = 'closed', reason = NULL, failures = 0, since_ms = NULL, probe_ms = NULL,
           alerted = 0, updated_ms = ? WHERE destination = ? AND state = 'open'`,
        [now, s.destination],
      );
    } else {
      yield* run(
        `UPDATE destination_states SET probe_interval_ms = ?, probe_ms = ?, updated_ms = ?
         WHERE destination = ? AND state = 'open' AND probe_interval_ms <> ?`,
        [s.probeIntervalMs, now + s.probeIntervalMs, now, s.destination, s.probeIntervalMs],
      );
    }
  }
}

/**
 * For a claim, under the destinations' locks: which of them are open or paused. One indexed read of a table with a
 * row per destination that ever failed.
 */
export function* readHolds(d: Dialect, destinations: readonly string[]): Script<Map<string, Hold>> {
  const found = yield* all<{
    destination: string;
    state: 'open' | 'paused';
    probe_ms: number;
    probe_interval_ms: number;
  }>(
    `SELECT destination, state, probe_ms, probe_interval_ms FROM destination_states
     WHERE state <> 'closed' AND destination ${d.inList}`,
    [d.list(destinations)],
  );
  return new Map(
    found.map((r) => [
      r.destination,
      { state: r.state, probeMs: Number(r.probe_ms ?? 0), probeIntervalMs: Number(r.probe_interval_ms ?? 0) },
    ]),
  );
}

/**
 * The claim chose `probes` (one per open destination): their probe slots are taken, so no other process sends one
 * before the next interval, and their attempts are given back: a probe does not count toward maxAttempts.
 */
export function* takeProbes(
  d: Dialect,
  probes: readonly { id: string; destination: string }[],
  holds: ReadonlyMap<string, Hold>,
  now: number,
): Script<void> {
  for (const p of probes) {
    const hold = holds.get(p.destination);
    yield* run('UPDATE destination_states SET probe_ms = ? WHERE destination = ?', [
      now + (hold?.probeIntervalMs ?? 0),
      p.destination,
    ]);
  }
  if (probes.length > 0) {
    yield* run(`UPDATE deliveries SET attempts = attempts - 1 WHERE id ${d.inList}`, [d.list(probes.map((p) => p.id))]);
  }
}

/**
 * A crashed process's sends to an open or paused destination (their lease expired) go back to pending, unsent
 * again until the breaker lets them: a claim never takes them as it takes other expired leases.
 */
export function* releaseHeld(d: Dialect, ids: readonly string[], now: number): Script<void> {
  if (ids.length === 0) return;
  yield* run(
    `UPDATE deliveries SET state = 'pending', lease_owner = NULL, lease_until_ms = NULL, updated_ms = ?
     WHERE id ${d.inList} AND ${d.noIndex}state = 'inflight'`,
    [now, d.list([...ids])],
  );
}

/**
 * For leaseAtIngest's per-destination count (`r` its row source): 1 when the destination is open or paused, so none
 * of its deliveries is leased at ingest (they wait for the breaker, as claims do).
 */
export const HELD_COLUMN = `(SELECT count(*) FROM destination_states s WHERE s.destination = r.destination
  AND s.state <> 'closed') AS held`;

/**
 * For nextWakeAt: pending deliveries of a held destination are due but not claimable, so they do not wake the worker;
 * an open one wakes it at its next probe (`?`: now; a probe due already waits for a send in flight, whose end wakes
 * the worker).
 */
export const NOT_HELD = `destination NOT IN (SELECT destination FROM destination_states WHERE state <> 'closed')`;
export const NEXT_PROBE = `SELECT min(b.probe_ms) AS t FROM destination_states b WHERE b.state = 'open' AND b.probe_ms > ?
  AND EXISTS (SELECT 1 FROM deliveries d WHERE d.destination = b.destination AND d.state = 'pending')`;

export function createBreakerStore(ctx: StoreContext): BreakerStore {
  const { readQuick, write, d } = ctx;
  return {
    recordBreakerFailure: (failure) => write(() => recordFailure(d, failure)),
    recordBreakerSuccess: (destination, now) => write(() => recordSuccess(d, destination, now)),
    pauseSends: (p) => write(() => pause(d, p)),
    resumeSends: (destination, now, by) => write(() => resume(d, destination, now, by)),
    applyBreakerSettings: async (settings, now) => {
      if (settings.length > 0) await write(() => applySettings(settings, now));
    },
    // A row per destination, read by every process's breakers on a timer: not queued behind listings.
    readBreakers: () =>
      readQuick(function* () {
        const found = yield* all<StateRow>(`SELECT * FROM destination_states ORDER BY destination${d.byteOrder}`);
        return found.map(toRecord);
      }),
  };
}
