import type Database from 'better-sqlite3';
import { parseEvent, stringifyEvent } from '../../event-json';
import { unionRules, type Row } from '../rows';
import type { FlushedGroup, GroupFlush, PendingGroup } from '../types';

/**
 * Grouping's SQL: members waiting in their group, the flush that turns them into one message, and the rate slots
 * of Slack destinations. A flush is one IMMEDIATE transaction: no other process writes meanwhile, so the group is
 * judged due and emptied atomically, and a process killed halfway leaves nothing behind.
 */
export function prepareGroups(db: Database.Database) {
  const listPending = db.prepare(`
    SELECT m.destination, m.group_key, min(m.created_ms) AS first_ms, count(*) AS members, w.last_flush_ms
    FROM group_members m LEFT JOIN group_windows w ON w.destination = m.destination AND w.group_key = m.group_key
    WHERE m.message_event_id IS NULL GROUP BY m.destination, m.group_key`);
  const selectWindow = db
    .prepare('SELECT last_flush_ms FROM group_windows WHERE destination = ? AND group_key = ?')
    .pluck();
  const selectFirst = db.prepare(`
    SELECT min(created_ms) AS first_ms, count(*) AS n FROM group_members
    WHERE destination = ? AND group_key = ? AND message_event_id IS NULL`);
  const selectListed = db
    .prepare(
      `SELECT e.body FROM group_members m JOIN events e ON e.id = m.event_id
       WHERE m.destination = ? AND m.group_key = ? AND m.message_event_id IS NULL
       ORDER BY m.created_ms, m.event_id LIMIT ?`,
    )
    .pluck();
  const selectNames = db
    .prepare(
      `SELECT coalesce(e.control_number, e.id) FROM group_members m JOIN events e ON e.id = m.event_id
       WHERE m.destination = ? AND m.group_key = ? AND m.message_event_id IS NULL
       ORDER BY m.created_ms, m.event_id LIMIT ? OFFSET ?`,
    )
    .pluck();
  const countByStatus = db.prepare(`
    SELECT coalesce(e.status, e.type) AS status, count(*) AS n FROM group_members m JOIN events e ON e.id = m.event_id
    WHERE m.destination = ? AND m.group_key = ? AND m.message_event_id IS NULL GROUP BY 1`);
  const selectRules = db
    .prepare(
      `SELECT DISTINCT rules FROM group_members WHERE destination = ? AND group_key = ? AND message_event_id IS NULL`,
    )
    .pluck();
  const insertEvent = db.prepare(`
    INSERT INTO events (id, source, type, body, received_ms) VALUES (?, ?, ?, ?, ?)`);
  const insertDelivery = db.prepare(`
    INSERT INTO deliveries (id, event_id, destination, rules, state, next_attempt_ms, created_ms, updated_ms)
    VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`);
  const link = db.prepare(`
    UPDATE group_members SET message_event_id = ? WHERE destination = ? AND group_key = ? AND message_event_id IS NULL`);
  const setWindow = db.prepare(`
    INSERT INTO group_windows (destination, group_key, last_flush_ms) VALUES (?, ?, ?)
    ON CONFLICT (destination, group_key) DO UPDATE SET last_flush_ms = excluded.last_flush_ms`);
  const pause = db.prepare(`
    INSERT INTO destination_slots (destination, next_ms) VALUES (?, ?)
    ON CONFLICT (destination) DO UPDATE SET next_ms = max(next_ms, excluded.next_ms)`);

  const flush = db.transaction((f: GroupFlush): FlushedGroup | undefined => {
    const waiting = selectFirst.get(f.destination, f.groupKey) as { first_ms: number | null; n: number };
    if (waiting.first_ms === null || waiting.n === 0) return undefined;
    const last = selectWindow.get(f.destination, f.groupKey) as number | null | undefined;
    if (!f.isDue({ firstMs: waiting.first_ms, lastFlushMs: last ?? undefined })) return undefined;
    const listed = (selectListed.all(f.destination, f.groupKey, f.listLimit) as string[]).map(parseEvent);
    const counts: Record<string, number> = {};
    for (const r of countByStatus.all(f.destination, f.groupKey) as { status: string; n: number }[]) {
      counts[r.status] = r.n;
    }
    const rules = unionRules(selectRules.all(f.destination, f.groupKey) as string[]);
    const moreNames = selectNames.all(f.destination, f.groupKey, f.nameLimit, f.listLimit) as string[];
    const { event, delivery } = f.build({ listed, total: waiting.n, counts, rules, moreNames });
    insertEvent.run(event.id, event.source, event.type, stringifyEvent(event), f.now);
    insertDelivery.run(
      delivery.id,
      event.id,
      delivery.destination,
      JSON.stringify(delivery.rules),
      f.now,
      f.now,
      f.now,
    );
    const members = link.run(event.id, f.destination, f.groupKey).changes;
    setWindow.run(f.destination, f.groupKey, f.now);
    return { messageEventId: event.id, deliveryId: delivery.id, members };
  });

  return {
    listPending: (): PendingGroup[] =>
      (listPending.all() as Row[]).map((r) => ({
        destination: String(r['destination']),
        groupKey: String(r['group_key']),
        firstMs: Number(r['first_ms']),
        members: Number(r['members']),
        lastFlushMs: r['last_flush_ms'] == null ? undefined : Number(r['last_flush_ms']),
      })),
    flush: (f: GroupFlush) => flush.immediate(f),
    pause: (destination: string, untilMs: number) => void pause.run(destination, untilMs),
  };
}
