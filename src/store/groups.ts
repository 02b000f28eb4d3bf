import { parseEvent } from '../event-json';
import type { StoreContext } from './context';
import { unionRules } from '../alerts/decisions';
import { all, get, run, type Dialect, type Script } from './sql';
import type { GroupStore } from './store';
import type { FlushedGroup, GroupFlush } from '../alerts/types';
import { insertEvents } from './writes';

/**
 * Grouping: members wait in their group, and a flush turns them into one message (an event of skyrelay's own with
 * one delivery) in one transaction. A group's row in group_windows is its lock (PostgreSQL: FOR UPDATE; SQLite's
 * write transaction excludes all others): the group is judged due again with the time of its last message as
 * committed, so of several processes flushing one group at once, one makes the message and the others find it not
 * due. The members it carries are read and linked by id, so the message counts exactly what it carries although
 * ingest keeps adding members meanwhile.
 */
function* flushGroup(d: Dialect, f: GroupFlush): Script<FlushedGroup | undefined> {
  const key = [f.destination, f.groupKey];
  yield* run('INSERT INTO group_windows (destination, group_key) VALUES (?, ?) ON CONFLICT DO NOTHING', key);
  const window = yield* get<{ last_flush_ms: number | null }>(
    `SELECT last_flush_ms FROM group_windows WHERE destination = ? AND group_key = ?${d.forUpdate}`,
    key,
  );
  const waiting = yield* all<{ event_id: string; created_ms: number }>(
    `SELECT event_id, created_ms FROM group_members
     WHERE destination = ? AND group_key = ? AND message_event_id IS NULL
     ORDER BY created_ms, event_id${d.forUpdate}`,
    key,
  );
  const first = waiting[0];
  if (!first) return undefined;
  const lastFlushMs = window?.last_flush_ms == null ? undefined : Number(window.last_flush_ms);
  if (!f.isDue({ firstMs: Number(first.created_ms), lastFlushMs })) return undefined;
  const ids = waiting.map((r) => r.event_id);
  const listedIds = ids.slice(0, f.listLimit);
  const bodies = yield* all<{ id: string; body: string }>(`SELECT id, body FROM events WHERE id ${d.inList}`, [
    d.list(listedIds),
  ]);
  const bodyOf = new Map(bodies.map((r) => [r.id, r.body]));
  const listed = listedIds.flatMap((id) => {
    const body = bodyOf.get(id);
    return body === undefined ? [] : [parseEvent(body)];
  });
  const counted = yield* all<{ status: string; n: number }>(
    `SELECT coalesce(status, type) AS status, count(*) AS n FROM events WHERE id ${d.inList} GROUP BY coalesce(status, type)`,
    [d.list(ids)],
  );
  const counts: Record<string, number> = {};
  for (const r of counted) counts[r.status] = Number(r.n);
  const ruleRows = yield* all<{ rules: string }>(
    `SELECT DISTINCT rules FROM group_members WHERE destination = ? AND group_key = ? AND event_id ${d.inList}`,
    [...key, d.list(ids)],
  );
  const rules = unionRules(ruleRows.map((r) => r.rules));
  const namedIds = ids.slice(f.listLimit, f.listLimit + f.nameLimit);
  const names = yield* all<{ id: string; name: string }>(
    `SELECT id, coalesce(control_number, id) AS name FROM events WHERE id ${d.inList}`,
    [d.list(namedIds)],
  );
  const nameOf = new Map(names.map((r) => [r.id, r.name]));
  const moreNames = namedIds.flatMap((id) => nameOf.get(id) ?? []);
  const { event, delivery } = f.build({ listed, total: ids.length, counts, rules, moreNames });
  yield* insertEvents(d, [{ event, receivedMs: f.now, routes: [delivery] }], f.now);
  yield* run(
    `UPDATE group_members SET message_event_id = ? WHERE destination = ? AND group_key = ? AND event_id ${d.inList}`,
    [event.id, ...key, d.list(ids)],
  );
  yield* run('UPDATE group_windows SET last_flush_ms = ? WHERE destination = ? AND group_key = ?', [f.now, ...key]);
  return { messageEventId: event.id, deliveryId: delivery.id, members: ids.length };
}

export function createGroupStore(ctx: StoreContext): GroupStore {
  const { readQuick, write, d } = ctx;
  return {
    // Every round of the group flusher: the waiting members' partial index only.
    listPendingGroups: () =>
      readQuick(function* () {
        const found = yield* all(
          `SELECT m.destination, m.group_key, min(m.created_ms) AS first_ms, count(*) AS members, w.last_flush_ms
           FROM group_members m LEFT JOIN group_windows w ON w.destination = m.destination AND w.group_key = m.group_key
           WHERE m.message_event_id IS NULL GROUP BY m.destination, m.group_key, w.last_flush_ms`,
        );
        return found.map((r) => ({
          destination: String(r['destination']),
          groupKey: String(r['group_key']),
          firstMs: Number(r['first_ms']),
          members: Number(r['members']),
          lastFlushMs: r['last_flush_ms'] == null ? undefined : Number(r['last_flush_ms']),
        }));
      }),
    flushGroup: (flush) => write(() => flushGroup(d, flush)),
  };
}
