import type { StoreContext } from './context';
import { all, get, run, type Dialect, type Script } from './sql';
import type { RetentionStore } from './store';
import { pruneTally } from './tally';
import type { PruneCounts, PruneCutoffs } from '../retention/types';

/**
 * Retention's statements (the policy and the loop are in ./retention.ts). Events older than the cut-off go with
 * their deliveries, attempts, copies and silenced routes, unless one of their deliveries is still pending or in
 * flight, or dead and holding its payout's later deliveries to an ordered destination (an operator's to release). Under concurrency from other processes (PostgreSQL): the events are locked first (a replay of one
 * waits, then finds it gone), and their deliveries are locked and read again, so a delivery requeued a moment ago
 * keeps its event.
 */
const UNFINISHED = `EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id
  AND (d.state IN ('pending', 'inflight') OR d.held_since_ms IS NOT NULL))`;

function* pruneBatch(d: Dialect, cut: PruneCutoffs, limit: number): Script<PruneCounts> {
  const picked = yield* all<{ id: string }>(
    `SELECT id FROM events e WHERE e.received_ms < ? AND NOT ${UNFINISHED}
     ORDER BY e.received_ms LIMIT ?${d.forUpdateSkipLocked}`,
    [cut.eventsBeforeMs, limit],
  );
  let ids = picked.map((r) => r.id);
  if (ids.length > 0 && d.forUpdate !== '') {
    const states = yield* all<{ event_id: string; state: string; held_since_ms: number | null }>(
      `SELECT event_id, state, held_since_ms FROM deliveries WHERE event_id ${d.inList}${d.forUpdate}`,
      [d.list(ids)],
    );
    const unfinished = new Set(
      states
        .filter((r) => r.state === 'pending' || r.state === 'inflight' || r.held_since_ms !== null)
        .map((r) => r.event_id),
    );
    ids = ids.filter((id) => !unfinished.has(id));
  }
  const list = d.list(ids);
  const attempts = yield* run(
    `DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id ${d.inList})`,
    [list],
  );
  const deliveries = yield* run(`DELETE FROM deliveries WHERE event_id ${d.inList}`, [list]);
  yield* run(`DELETE FROM callback_copies WHERE event_id ${d.inList}`, [list]);
  yield* run(`DELETE FROM event_silences WHERE event_id ${d.inList}`, [list]);
  const events = yield* run(`DELETE FROM events WHERE id ${d.inList}`, [list]);
  // A copy that arrived after its event was pruned has no event to go with: it goes by its own age.
  yield* run(
    `DELETE FROM callback_copies WHERE id IN (SELECT c.id FROM callback_copies c
     WHERE c.received_ms < ? AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = c.event_id) LIMIT ?)`,
    [cut.eventsBeforeMs, limit],
  );
  // The ledger's tally of acknowledged callbacks goes with the events it counted.
  yield* pruneTally(cut.eventsBeforeMs, limit);
  const rejections = yield* run(
    'DELETE FROM rejections WHERE id IN (SELECT id FROM rejections WHERE received_ms < ? LIMIT ?)',
    [cut.rejectionsBeforeMs, limit],
  );
  // A key whose event is still kept (a pending delivery, a longer event retention) is what dedups it: it stays.
  const keys =
    cut.keysBeforeMs === undefined
      ? 0
      : yield* run(
          `DELETE FROM callback_keys WHERE (partner, control_number, pay_type, deal_time) IN (
             SELECT partner, control_number, pay_type, deal_time FROM callback_keys k
             WHERE k.received_ms < ? AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = k.event_id) LIMIT ?)`,
          [cut.keysBeforeMs, limit],
        );
  return { events, deliveries, attempts, rejections, keys };
}

export function createRetentionStore(ctx: StoreContext): RetentionStore {
  const { read, write, d } = ctx;
  return {
    pruneBatch: (cut, limit) => write(() => pruneBatch(d, cut, limit)),
    countPrunable: (cut) =>
      read(function* () {
        const row = yield* get<{ events: number; rejections: number }>(
          `SELECT (SELECT count(*) FROM events e WHERE e.received_ms < ? AND NOT ${UNFINISHED}) AS events,
             (SELECT count(*) FROM rejections WHERE received_ms < ?) AS rejections`,
          [cut.eventsBeforeMs, cut.rejectionsBeforeMs],
        );
        return { events: Number(row?.events ?? 0), rejections: Number(row?.rejections ?? 0) };
      }),
  };
}
