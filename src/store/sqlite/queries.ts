import type Database from 'better-sqlite3';
import type { RelayEvent } from '../../event';
import { parseEvent } from '../../event-json';
import { ReplayCountChangedError } from '../errors';
import type {
  CallbackIdentity,
  DeliveryFilter,
  DeliveryState,
  DeliveryView,
  EventDetail,
  EventFilter,
  EventSummary,
  NewDelivery,
  RejectionDetail,
  RejectionFilter,
  RejectionView,
  ReplayFilter,
  ReplayResult,
} from '../types';
import {
  describeGroupReplay,
  toGroupMembership,
  iso,
  numOrNull,
  strOrNull,
  toAttemptView,
  toConflictingCopy,
  toCallbackIdentity,
  toDeliveryView,
  toRejectionDetail,
  toRejectionView,
  toSilencedRoute,
  type Row,
} from '../rows';

function where(conditions: [string, unknown][]): { sql: string; params: unknown[] } {
  const used = conditions.filter(([, value]) => value !== undefined);
  return { sql: used.length ? `WHERE ${used.map(([c]) => c).join(' AND ')}` : '', params: used.map(([, v]) => v) };
}

export function listEvents(db: Database.Database, f: EventFilter): EventSummary[] {
  const w = where([
    ['e.control_number = ?', f.controlNumber],
    ['e.status = ?', f.status],
    ['e.type = ?', f.type],
    ['e.partner = ?', f.partner],
    ['e.received_ms >= ?', f.sinceMs],
    ['e.received_ms < ?', f.untilMs],
    ['e.id < ?', f.before],
  ]);
  const rows = db
    .prepare(`SELECT e.* FROM events e ${w.sql} ORDER BY e.id DESC LIMIT ?`)
    .all(...w.params, f.limit) as Row[];
  const count = db.prepare('SELECT state, count(*) AS n FROM deliveries WHERE event_id = ? GROUP BY state');
  return rows.map((r) => {
    const deliveries: Record<DeliveryState, number> = { pending: 0, inflight: 0, delivered: 0, dead: 0 };
    for (const c of count.all(r['id']) as { state: DeliveryState; n: number }[]) deliveries[c.state] = c.n;
    return {
      id: String(r['id']),
      source: String(r['source']),
      type: String(r['type']),
      partner: strOrNull(r['partner']),
      controlNumber: strOrNull(r['control_number']),
      payType: numOrNull(r['pay_type']),
      status: strOrNull(r['status']),
      dealTime: strOrNull(r['deal_time']),
      receivedAt: iso(r['received_ms']),
      duplicates: Number(r['duplicates']),
      deliveries,
    };
  });
}

/**
 * Every refused callback, newest first. This is also what `type=rejection`
 * lists: a rejection *event* exists only when a rule routes skyrelay's own
 * events (and is rate-limited), while every rejection has its row here.
 */
export function listRejections(db: Database.Database, f: RejectionFilter): RejectionView[] {
  const w = where([
    ['reason = ?', f.reason],
    ['received_ms >= ?', f.sinceMs],
    ['id < ?', f.before],
  ]);
  const rows = db
    .prepare(
      `SELECT id, received_ms, remote_address, method, path, status, reason, partner, description,
    suppressed FROM rejections ${w.sql} ORDER BY id DESC LIMIT ?`,
    )
    .all(...w.params, f.limit) as Row[];
  return rows.map(toRejectionView);
}

export function getRejection(db: Database.Database, id: string): RejectionDetail | undefined {
  const row = db.prepare('SELECT * FROM rejections WHERE id = ?').get(id) as Row | undefined;
  return row && toRejectionDetail(row);
}

export function findCallbackIdentities(db: Database.Database, controlNumber: string): CallbackIdentity[] {
  const rows = db
    .prepare('SELECT * FROM callback_keys WHERE control_number = ? ORDER BY received_ms, event_id')
    .all(controlNumber) as Row[];
  return rows.map(toCallbackIdentity);
}

const DELIVERY_SELECT = `SELECT d.*, e.control_number, e.source || '.' || e.type AS event_type
  FROM deliveries d JOIN events e ON e.id = d.event_id`;

export function listDeliveries(db: Database.Database, f: DeliveryFilter): DeliveryView[] {
  const w = where([
    ['d.state = ?', f.state],
    ['d.destination = ?', f.destination],
    ['d.updated_ms >= ?', f.sinceMs],
    ['d.id < ?', f.before],
  ]);
  return (db.prepare(`${DELIVERY_SELECT} ${w.sql} ORDER BY d.id DESC LIMIT ?`).all(...w.params, f.limit) as Row[]).map(
    toDeliveryView,
  );
}

export function getEvent(db: Database.Database, id: string): EventDetail | undefined {
  const row = db.prepare('SELECT body, duplicates, last_seen_ms FROM events WHERE id = ?').get(id) as Row | undefined;
  if (!row) return undefined;
  const attempts = db.prepare('SELECT * FROM attempts WHERE delivery_id = ? ORDER BY id');
  const deliveries = (db.prepare(`${DELIVERY_SELECT} WHERE d.event_id = ? ORDER BY d.id`).all(id) as Row[]).map(
    (r) => ({
      ...toDeliveryView(r),
      attemptLog: (attempts.all(r['id']) as Row[]).map(toAttemptView),
    }),
  );
  const event = parseEvent(String(row['body']));
  const duplicates = Number(row['duplicates']);
  // The stored body is the first arrival; the count of later copies lives in its column.
  if (event.source === 'skypay') event.duplicates = duplicates;
  const copies = db
    .prepare(
      `SELECT id, received_ms, repeats, body FROM callback_copies WHERE event_id = ?
    ORDER BY received_ms, id`,
    )
    .all(id) as Row[];
  const conflicts = copies.map((c) => toConflictingCopy(c, event));
  const lastSeenAt = row['last_seen_ms'] == null ? null : iso(row['last_seen_ms']);
  const silenced = (
    db.prepare('SELECT * FROM event_silences WHERE event_id = ? ORDER BY destination').all(id) as Row[]
  ).map(toSilencedRoute);
  const groups = (
    db
      .prepare(
        `SELECT m.destination, m.group_key, m.rules, m.created_ms, m.message_event_id, d.id AS delivery_id, d.state
         FROM group_members m LEFT JOIN deliveries d ON d.event_id = m.message_event_id
         WHERE m.event_id = ? ORDER BY m.destination`,
      )
      .all(id) as Row[]
  ).map(toGroupMembership);
  return { event, duplicates, lastSeenAt, deliveries, conflicts, silenced, groups };
}

/** Every event of one payout (each status SkyPay reported), oldest first. */
export function findEventsByControlNumber(db: Database.Database, controlNumber: string): EventDetail[] {
  const ids = db
    .prepare('SELECT id FROM events WHERE control_number = ? ORDER BY id')
    .pluck()
    .all(controlNumber) as string[];
  return ids.map((id) => getEvent(db, id)).filter((e): e is EventDetail => e !== undefined);
}

const REQUEUE = `UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_ms = @now, lease_owner = NULL,
  lease_until_ms = NULL, updated_ms = @now WHERE id = @id AND state IN ('delivered', 'dead')`;

/**
 * Puts finished deliveries back in the queue with a fresh attempt budget
 * (the attempt history stays). Pending or in-flight ones are left alone:
 * they are already queued, and resetting a lease would send twice.
 */
export function replayDeliveries(db: Database.Database, ids: readonly string[], now = Date.now()): ReplayResult {
  const requeue = db.prepare(REQUEUE);
  const state = db.prepare('SELECT state FROM deliveries WHERE id = ?').pluck();
  const run = db.transaction(() => {
    const result: ReplayResult = { requeued: [], created: [], skipped: [] };
    for (const id of ids) {
      if (requeue.run({ id, now }).changes === 1) result.requeued.push(id);
      else {
        const current = state.get(id) as string | undefined;
        result.skipped.push({ id, reason: current ? `already ${current}` : 'no such delivery' });
      }
    }
    return result;
  });
  return run.immediate();
}

function selectMatching(db: Database.Database, f: ReplayFilter): string[] {
  const w = where([
    ['state = ?', f.state],
    ['destination = ?', f.destination],
    ['updated_ms >= ?', f.sinceMs],
  ]);
  return db
    .prepare(`SELECT id FROM deliveries ${w.sql} ORDER BY id`)
    .pluck()
    .all(...w.params) as string[];
}

/** How many deliveries a bulk replay with this filter would requeue now: what a confirmation must repeat. */
export function countMatching(db: Database.Database, f: ReplayFilter): number {
  return selectMatching(db, f).length;
}

/**
 * Replays every delivery in a state (normally dead), optionally for one
 * destination or since an instant. With `confirm`, only if exactly that many
 * match (else ReplayCountChangedError): a confirmed re-send of delivered messages
 * must not grow behind the operator's back.
 */
export function replayMatching(
  db: Database.Database,
  f: ReplayFilter & { confirm?: number | undefined },
  now = Date.now(),
): ReplayResult {
  // Select and requeue in one transaction, so a delivery dying meanwhile is either in or out, never half.
  const run = db.transaction(() => {
    const ids = selectMatching(db, f);
    if (f.confirm !== undefined && ids.length !== f.confirm) throw new ReplayCountChangedError(f.confirm, ids.length);
    return replayDeliveries(db, ids, now);
  });
  return run.immediate();
}

/**
 * Sends an event again to the destinations the current rules choose:
 * finished deliveries are requeued, destinations it never had get a new
 * delivery, and deliveries to destinations no longer chosen are left as they are.
 */
export function replayEvent(
  db: Database.Database,
  eventId: string,
  plan: (event: RelayEvent) => NewDelivery[],
  now = Date.now(),
): ReplayResult | undefined {
  const body = db.prepare('SELECT body FROM events WHERE id = ?').pluck().get(eventId) as string | undefined;
  if (body === undefined) return undefined;
  const planned = plan(parseEvent(body));
  const existing = db.prepare('SELECT id, destination, state FROM deliveries WHERE event_id = ?');
  const insert =
    db.prepare(`INSERT INTO deliveries (id, event_id, destination, rules, state, next_attempt_ms, created_ms,
    updated_ms) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`);
  const setRules = db.prepare('UPDATE deliveries SET rules = ? WHERE id = ?');
  const member = db
    .prepare('SELECT message_event_id FROM group_members WHERE event_id = ? AND destination = ?')
    .pluck();
  const insertMember = db.prepare(`
    INSERT INTO group_members (event_id, destination, group_key, rules, created_ms) VALUES (?, ?, ?, ?, ?)`);
  const run = db.transaction(() => {
    const rows = existing.all(eventId) as { id: string; destination: string; state: string }[];
    const result: ReplayResult = { requeued: [], created: [], skipped: [] };
    for (const p of planned) {
      if (p.groupKey !== undefined) {
        const message = member.get(eventId, p.destination) as string | null | undefined;
        if (message === undefined) insertMember.run(eventId, p.destination, p.groupKey, JSON.stringify(p.rules), now);
        result.skipped.push({ id: p.id, reason: describeGroupReplay(p.destination, message) });
        continue;
      }
      const row = rows.find((r) => r.destination === p.destination);
      if (!row) {
        insert.run(p.id, eventId, p.destination, JSON.stringify(p.rules), now, now, now);
        result.created.push(p.id);
        continue;
      }
      setRules.run(JSON.stringify(p.rules), row.id);
      const r = replayDeliveries(db, [row.id], now);
      result.requeued.push(...r.requeued);
      result.skipped.push(...r.skipped);
    }
    for (const row of rows) {
      if (!planned.some((p) => p.destination === row.destination)) {
        result.skipped.push({ id: row.id, reason: `the rules no longer route this event to ${row.destination}` });
      }
    }
    return result;
  });
  return run.immediate();
}
