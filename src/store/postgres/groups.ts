import type { ClientBase, Pool } from 'pg';
import { parseEvent, stringifyEvent } from '../../event-json';
import { unionRules, type Row } from '../rows';
import type { FlushedGroup, GroupFlush, PendingGroup } from '../types';
import { WORK_CHANNEL } from './locks';

/**
 * Grouping's SQL for PostgreSQL. A group's row in group_windows is its lock: a flush locks it FOR UPDATE, then
 * judges the group due again with the time of the last message as committed, so of several hosts flushing one
 * group at once, one creates the message and the others find it not due. The members it carries are locked
 * and linked by id, so the message counts exactly what it carries, though ingest keeps adding members meanwhile.
 */
export async function listPendingGroups(pool: Pool): Promise<PendingGroup[]> {
  const { rows } = await pool.query<Row>(
    `SELECT m.destination, m.group_key, min(m.created_ms) AS first_ms, count(*) AS members, w.last_flush_ms
     FROM group_members m LEFT JOIN group_windows w ON w.destination = m.destination AND w.group_key = m.group_key
     WHERE m.message_event_id IS NULL GROUP BY m.destination, m.group_key, w.last_flush_ms`,
  );
  return rows.map((r) => ({
    destination: String(r['destination']),
    groupKey: String(r['group_key']),
    firstMs: Number(r['first_ms']),
    members: Number(r['members']),
    lastFlushMs: r['last_flush_ms'] == null ? undefined : Number(r['last_flush_ms']),
  }));
}

export async function flushGroup(client: ClientBase, f: GroupFlush): Promise<FlushedGroup | undefined> {
  const key = [f.destination, f.groupKey];
  await client.query('INSERT INTO group_windows (destination, group_key) VALUES ($1, $2) ON CONFLICT DO NOTHING', key);
  const window = await client.query<{ last_flush_ms: number | null }>(
    'SELECT last_flush_ms FROM group_windows WHERE destination = $1 AND group_key = $2 FOR UPDATE',
    key,
  );
  const lastFlushMs = window.rows[0]?.last_flush_ms ?? undefined;
  const waiting = await client.query<{ event_id: string; created_ms: number }>(
    `SELECT event_id, created_ms FROM group_members
     WHERE destination = $1 AND group_key = $2 AND message_event_id IS NULL
     ORDER BY created_ms, event_id FOR UPDATE`,
    key,
  );
  const first = waiting.rows[0];
  if (!first) return undefined;
  if (!f.isDue({ firstMs: Number(first.created_ms), lastFlushMs })) return undefined;
  const ids = waiting.rows.map((r) => r.event_id);
  const listedIds = ids.slice(0, f.listLimit);
  const bodies = await client.query<{ id: string; body: string }>('SELECT id, body FROM events WHERE id = ANY($1)', [
    listedIds,
  ]);
  const bodyOf = new Map(bodies.rows.map((r) => [r.id, r.body]));
  const listed = listedIds.flatMap((id) => {
    const body = bodyOf.get(id);
    return body === undefined ? [] : [parseEvent(body)];
  });
  const counted = await client.query<{ status: string; n: number }>(
    'SELECT coalesce(status, type) AS status, count(*) AS n FROM events WHERE id = ANY($1) GROUP BY 1',
    [ids],
  );
  const counts: Record<string, number> = {};
  for (const r of counted.rows) counts[r.status] = Number(r.n);
  const ruleRows = await client.query<{ rules: string }>(
    'SELECT DISTINCT rules FROM group_members WHERE destination = $1 AND group_key = $2 AND event_id = ANY($3)',
    [...key, ids],
  );
  const rules = unionRules(ruleRows.rows.map((r) => r.rules));
  const namedIds = ids.slice(f.listLimit, f.listLimit + f.nameLimit);
  const names = await client.query<{ id: string; name: string }>(
    'SELECT id, coalesce(control_number, id) AS name FROM events WHERE id = ANY($1)',
    [namedIds],
  );
  const nameOf = new Map(names.rows.map((r) => [r.id, r.name]));
  const moreNames = namedIds.flatMap((id) => nameOf.get(id) ?? []);
  const { event, delivery } = f.build({ listed, total: ids.length, counts, rules, moreNames });
  await client.query('INSERT INTO events (id, source, type, body, received_ms) VALUES ($1, $2, $3, $4, $5)', [
    event.id,
    event.source,
    event.type,
    stringifyEvent(event),
    f.now,
  ]);
  await client.query(
    `INSERT INTO deliveries (id, event_id, destination, rules, state, next_attempt_ms, created_ms, updated_ms)
     VALUES ($1, $2, $3, $4, 'pending', $5, $5, $5)`,
    [delivery.id, event.id, delivery.destination, JSON.stringify(delivery.rules), f.now],
  );
  await client.query(
    'UPDATE group_members SET message_event_id = $1 WHERE destination = $2 AND group_key = $3 AND event_id = ANY($4)',
    [event.id, f.destination, f.groupKey, ids],
  );
  await client.query('UPDATE group_windows SET last_flush_ms = $3 WHERE destination = $1 AND group_key = $2', [
    ...key,
    f.now,
  ]);
  await client.query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, 'group']);
  return { messageEventId: event.id, deliveryId: delivery.id, members: ids.length };
}

/** Never shortens a pause or a slot already taken further ahead. */
export async function pauseDestination(pool: Pool, destination: string, untilMs: number): Promise<void> {
  await pool.query(
    `INSERT INTO destination_slots (destination, next_ms) VALUES ($1, $2)
     ON CONFLICT (destination) DO UPDATE SET next_ms = greatest(destination_slots.next_ms, excluded.next_ms)`,
    [destination, untilMs],
  );
}
