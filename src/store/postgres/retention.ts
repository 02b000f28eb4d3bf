import type { ClientBase } from 'pg';
import type { PruneCounts, PruneCutoffs } from '../types';

const UNFINISHED = `EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state IN ('pending', 'inflight'))`;

/**
 * One retention batch in the caller's transaction, with the same rules as
 * SQLite's: old events go with their deliveries, attempts and copies unless a
 * delivery is unfinished; keys (when they have a cut-off) only once their
 * event is gone. Under concurrency from other instances: the events are
 * locked first (a replay of one waits, then finds it gone), and their
 * deliveries are locked and read again, so a delivery requeued a moment ago
 * keeps its event.
 */
export async function pruneBatch(client: ClientBase, cut: PruneCutoffs, limit: number): Promise<PruneCounts> {
  const picked = await client.query<{ id: string }>(
    `SELECT id FROM events e WHERE e.received_ms < $1 AND NOT ${UNFINISHED}
     ORDER BY e.received_ms LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [cut.eventsBeforeMs, limit],
  );
  let ids = picked.rows.map((r) => r.id);
  if (ids.length > 0) {
    const states = await client.query<{ event_id: string; state: string }>(
      'SELECT event_id, state FROM deliveries WHERE event_id = ANY($1) FOR UPDATE',
      [ids],
    );
    const unfinished = new Set(
      states.rows.filter((r) => r.state === 'pending' || r.state === 'inflight').map((r) => r.event_id),
    );
    ids = ids.filter((id) => !unfinished.has(id));
  }
  const attempts = await client.query(
    'DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id = ANY($1))',
    [ids],
  );
  const deliveries = await client.query('DELETE FROM deliveries WHERE event_id = ANY($1)', [ids]);
  await client.query('DELETE FROM callback_copies WHERE event_id = ANY($1)', [ids]);
  await client.query('DELETE FROM event_silences WHERE event_id = ANY($1)', [ids]);
  const events = await client.query('DELETE FROM events WHERE id = ANY($1)', [ids]);
  // A copy that arrived after its event was pruned has no event to go with: it goes by its own age.
  await client.query(
    `DELETE FROM callback_copies WHERE id IN (SELECT c.id FROM callback_copies c
     WHERE c.received_ms < $1 AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = c.event_id) LIMIT $2)`,
    [cut.eventsBeforeMs, limit],
  );
  const rejections = await client.query(
    `DELETE FROM rejections WHERE id IN (SELECT id FROM rejections WHERE received_ms < $1 LIMIT $2)`,
    [cut.rejectionsBeforeMs, limit],
  );
  let keys = 0;
  if (cut.keysBeforeMs !== undefined) {
    // A key whose event is still kept (a pending delivery, a longer event retention) is what dedups it: it stays.
    const dropped = await client.query(
      `DELETE FROM callback_keys WHERE (partner, control_number, pay_type, deal_time) IN (
         SELECT partner, control_number, pay_type, deal_time FROM callback_keys k
         WHERE k.received_ms < $1 AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = k.event_id) LIMIT $2)`,
      [cut.keysBeforeMs, limit],
    );
    keys = dropped.rowCount ?? 0;
  }
  return {
    events: events.rowCount ?? 0,
    deliveries: deliveries.rowCount ?? 0,
    attempts: attempts.rowCount ?? 0,
    rejections: rejections.rowCount ?? 0,
    keys,
  };
}

export async function countPrunable(
  client: Pick<ClientBase, 'query'>,
  cut: PruneCutoffs,
): Promise<{ events: number; rejections: number }> {
  const { rows } = await client.query<{ events: number; rejections: number }>(
    `SELECT (SELECT count(*) FROM events e WHERE e.received_ms < $1 AND NOT ${UNFINISHED}) AS events,
       (SELECT count(*) FROM rejections WHERE received_ms < $2) AS rejections`,
    [cut.eventsBeforeMs, cut.rejectionsBeforeMs],
  );
  return rows[0] ?? { events: 0, rejections: 0 };
}
