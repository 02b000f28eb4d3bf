import type { RelayEvent } from '../event';
import { parseEvent } from '../event-json';
import type { StoreContext } from './context';
import { ReplayCountChangedError } from './errors';
import { selectReplayable } from './inspect';
import { describeGroupReplay } from '../alerts/decisions';
import { all, get, notifyWork, run, type Dialect, type Script } from './sql';
import type { ReplayStore } from './store';
import type { NewDelivery } from '../delivery/types';
import type { ReplayResult } from './types';
import { insertRoutes } from './writes';
import { isOrderedRoute } from '../delivery/decisions';
import { placeOfReplay } from './ordering';

/**
 * Puts finished deliveries back in the queue with a fresh attempt budget (the attempt history stays). Pending or
 * in-flight ones are left alone: they are already queued, and resetting a lease would send twice.
 */
function* requeue(d: Dialect, ids: readonly string[], now: number): Script<ReplayResult> {
  const result: ReplayResult = { requeued: [], created: [], skipped: [] };
  if (ids.length === 0) return result;
  const updated = yield* all<{ id: string }>(
    // A delivery of an ordered destination keeps its place in its payout's line (and holds nothing while queued).
    // noIndex: SQLite would otherwise read the state through its index, every delivered delivery of the history.
    `UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_ms = ?, lease_owner = NULL,
       lease_until_ms = NULL, updated_ms = ?, replays = replays + 1, held_since_ms = NULL
     WHERE id ${d.inList} AND ${d.noIndex}state IN ('delivered', 'dead') RETURNING id`,
    [now, now, d.list([...ids])],
  );
  const requeued = new Set(updated.map((r) => r.id));
  const left = ids.filter((id) => !requeued.has(id));
  const states = left.length
    ? yield* all<{ id: string; state: string }>(`SELECT id, state FROM deliveries WHERE id ${d.inList}`, [d.list(left)])
    : [];
  const stateOf = new Map(states.map((r) => [r.id, r.state]));
  for (const id of ids) {
    if (requeued.has(id)) {
      if (!result.requeued.includes(id)) result.requeued.push(id);
      continue;
    }
    const current = stateOf.get(id);
    result.skipped.push({ id, reason: current ? `already ${current}` : 'no such delivery' });
  }
  if (requeued.size > 0) yield* notifyWork(d, 'replay');
  return result;
}

/**
 * Sends an event again to the destinations `plan` chooses now: finished deliveries are requeued, destinations it
 * never had get a new delivery (a grouping one a member row), and deliveries to destinations no longer chosen are
 * left as they are. The event row is share-locked (PostgreSQL), so retention cannot remove it meanwhile.
 */
function* replayEvent(
  d: Dialect,
  eventId: string,
  plan: (event: RelayEvent) => NewDelivery[],
  now: number,
): Script<ReplayResult | undefined> {
  const found = yield* get<{ body: string }>(`SELECT body FROM events WHERE id = ?${d.forShare}`, [eventId]);
  if (found === undefined) return undefined;
  const event = parseEvent(found.body);
  const planned = plan(event);
  const existing = yield* all<{ id: string; destination: string; state: string }>(
    `SELECT id, destination, state FROM deliveries WHERE event_id = ? ORDER BY id${d.forUpdate}`,
    [eventId],
  );
  const members = yield* all<{ destination: string; message_event_id: string | null }>(
    'SELECT destination, message_event_id FROM group_members WHERE event_id = ?',
    [eventId],
  );
  const memberOf = new Map(members.map((m) => [m.destination, m.message_event_id]));
  const result: ReplayResult = { requeued: [], created: [], skipped: [] };
  const added: NewDelivery[] = [];
  for (const p of planned) {
    if (p.groupKey !== undefined) {
      const message = memberOf.get(p.destination);
      if (!memberOf.has(p.destination)) added.push(p);
      result.skipped.push({ id: p.id, reason: describeGroupReplay(p.destination, message) });
      continue;
    }
    const row = existing.find((r) => r.destination === p.destination);
    if (!row) {
      added.push(p);
      result.created.push(p.id);
      continue;
    }
    yield* run('UPDATE deliveries SET rules = ? WHERE id = ?', [JSON.stringify(p.rules), row.id]);
    const r = yield* requeue(d, [row.id], now);
    result.requeued.push(...r.requeued);
    result.skipped.push(...r.skipped);
  }
  // Silences do not hold back a replay: what the operator asks for is sent.
  const routes = added.map((a) => ({ ...a, silencedBy: undefined }));
  // A new delivery to an ordered destination takes the event's place in its payout's line (placeOfReplay).
  const place = routes.some(isOrderedRoute) ? yield* placeOfReplay(event) : undefined;
  yield* insertRoutes(d, [{ eventId, ms: now, routes, place, replay: true }], now);
  // What the ledger holds the event's route rows to: the rules chose these too.
  if (added.length > 0) {
    yield* run('UPDATE events SET routes = routes + ? WHERE id = ? AND routes IS NOT NULL', [added.length, eventId]);
  }
  for (const row of existing) {
    if (!planned.some((p) => p.destination === row.destination)) {
      result.skipped.push({ id: row.id, reason: `the rules no longer route this event to ${row.destination}` });
    }
  }
  return result;
}

export function createReplayStore(ctx: StoreContext): ReplayStore {
  const { write, d } = ctx;
  return {
    replayDeliveries: (ids, now = Date.now()) => write(() => requeue(d, ids, now)),
    // Select and requeue in one transaction, so a delivery dying meanwhile is either in or out, never half. With
    // `confirm`, only if exactly that many match: a confirmed re-send must not grow behind the operator's back.
    replayMatching: (f, now = Date.now()) =>
      write(function* () {
        const ids = yield* selectReplayable(d, f, true);
        if (f.confirm !== undefined && ids.length !== f.confirm)
          throw new ReplayCountChangedError(f.confirm, ids.length);
        return yield* requeue(d, ids, now);
      }),
    replayEvent: (eventId, plan, now = Date.now()) => write(() => replayEvent(d, eventId, plan, now)),
  };
}
