import type { ClientBase } from 'pg';
import type { RelayEvent } from '../../event';
import { parseEvent } from '../../event-json';
import type { QueueState } from '../store';
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
  iso,
  numOrNull,
  strOrNull,
  toAttemptView,
  toConflictingCopy,
  toCallbackIdentity,
  toDeliveryView,
  toRejectionDetail,
  toGroupMembership,
  toRejectionView,
  toSilencedRoute,
  type Row,
} from '../rows';
import { WORK_CHANNEL } from './locks';

/**
 * What operators ask: the same filters, order (newest first by id, which is
 * time-sortable) and paging (a page's last id is the next cursor) as the
 * SQLite store, so the CLI and admin API cannot tell them apart.
 */
type Queryable = Pick<ClientBase, 'query'>;

/** `WHERE a = $1 AND b = $2` from the conditions whose value is set; `$?` in a condition is its parameter. */
function where(conditions: [string, unknown][], first = 1): { sql: string; params: unknown[] } {
  const used = conditions.filter(([, value]) => value !== undefined);
  const sql = used.map(([c], i) => c.replace('$?', `$${first + i}`)).join(' AND ');
  return { sql: used.length ? `WHERE ${sql}` : '', params: used.map(([, v]) => v) };
}

export async function listEvents(db: Queryable, f: EventFilter): Promise<EventSummary[]> {
  const w = where([
    ['e.control_number = $?', f.controlNumber],
    ['e.status = $?', f.status],
    ['e.type = $?', f.type],
    ['e.partner = $?', f.partner],
    ['e.received_ms >= $?', f.sinceMs],
    ['e.received_ms < $?', f.untilMs],
    ['e.id < $?', f.before],
  ]);
  const { rows } = await db.query<Row>(
    `SELECT e.id, e.source, e.type, e.partner, e.control_number, e.pay_type, e.status, e.deal_time, e.received_ms,
       e.duplicates, c.pending, c.inflight, c.delivered, c.dead
     FROM events e
     CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE state = 'pending') AS pending,
       count(*) FILTER (WHERE state = 'inflight') AS inflight, count(*) FILTER (WHERE state = 'delivered') AS delivered,
       count(*) FILTER (WHERE state = 'dead') AS dead FROM deliveries d WHERE d.event_id = e.id) c
     ${w.sql} ORDER BY e.id DESC LIMIT $${w.params.length + 1}`,
    [...w.params, f.limit],
  );
  return rows.map((r) => ({
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
    deliveries: {
      pending: Number(r['pending']),
      inflight: Number(r['inflight']),
      delivered: Number(r['delivered']),
      dead: Number(r['dead']),
    },
  }));
}

export async function listRejections(db: Queryable, f: RejectionFilter): Promise<RejectionView[]> {
  const w = where([
    ['reason = $?', f.reason],
    ['received_ms >= $?', f.sinceMs],
    ['id < $?', f.before],
  ]);
  const { rows } = await db.query<Row>(
    `SELECT id, received_ms, remote_address, method, path, status, reason, partner, description, suppressed
     FROM rejections ${w.sql} ORDER BY id DESC LIMIT $${w.params.length + 1}`,
    [...w.params, f.limit],
  );
  return rows.map(toRejectionView);
}

export async function getRejection(db: Queryable, id: string): Promise<RejectionDetail | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM rejections WHERE id = $1', [id]);
  return rows[0] && toRejectionDetail(rows[0]);
}

export async function findCallbackIdentities(db: Queryable, controlNumber: string): Promise<CallbackIdentity[]> {
  const { rows } = await db.query<Row>(
    'SELECT * FROM callback_keys WHERE control_number = $1 ORDER BY received_ms, event_id',
    [controlNumber],
  );
  return rows.map(toCallbackIdentity);
}

const DELIVERY_SELECT = `SELECT d.*, e.control_number, e.source || '.' || e.type AS event_type
  FROM deliveries d JOIN events e ON e.id = d.event_id`;

export async function listDeliveries(db: Queryable, f: DeliveryFilter): Promise<DeliveryView[]> {
  const w = where([
    ['d.state = $?', f.state],
    ['d.destination = $?', f.destination],
    ['d.updated_ms >= $?', f.sinceMs],
    ['d.id < $?', f.before],
  ]);
  const { rows } = await db.query<Row>(`${DELIVERY_SELECT} ${w.sql} ORDER BY d.id DESC LIMIT $${w.params.length + 1}`, [
    ...w.params,
    f.limit,
  ]);
  return rows.map(toDeliveryView);
}

export async function getEvent(db: Queryable, id: string): Promise<EventDetail | undefined> {
  const found = await db.query<Row>('SELECT body, duplicates, last_seen_ms FROM events WHERE id = $1', [id]);
  const row = found.rows[0];
  if (!row) return undefined;
  const deliveryRows = (await db.query<Row>(`${DELIVERY_SELECT} WHERE d.event_id = $1 ORDER BY d.id`, [id])).rows;
  const attemptRows = (
    await db.query<Row>('SELECT * FROM attempts WHERE delivery_id = ANY($1) ORDER BY id', [
      deliveryRows.map((d) => d['id']),
    ])
  ).rows;
  const deliveries = deliveryRows.map((r) => ({
    ...toDeliveryView(r),
    attemptLog: attemptRows.filter((a) => a['delivery_id'] === r['id']).map(toAttemptView),
  }));
  const event = parseEvent(String(row['body']));
  const duplicates = Number(row['duplicates']);
  // The stored body is the first arrival; the count of later copies lives in its column.
  if (event.source === 'skypay') event.duplicates = duplicates;
  const copies = await db.query<Row>(
    'SELECT id, received_ms, repeats, body FROM callback_copies WHERE event_id = $1 ORDER BY received_ms, id',
    [id],
  );
  const conflicts = copies.rows.map((c) => toConflictingCopy(c, event));
  const lastSeenAt = row['last_seen_ms'] == null ? null : iso(row['last_seen_ms']);
  const silenced = (
    await db.query<Row>('SELECT * FROM event_silences WHERE event_id = $1 ORDER BY destination', [id])
  ).rows.map(toSilencedRoute);
  const members = await db.query<Row>(
    `SELECT m.destination, m.group_key, m.rules, m.created_ms, m.message_event_id, d.id AS delivery_id, d.state
     FROM group_members m LEFT JOIN deliveries d ON d.event_id = m.message_event_id
     WHERE m.event_id = $1 ORDER BY m.destination`,
    [id],
  );
  return {
    event,
    duplicates,
    lastSeenAt,
    deliveries,
    conflicts,
    silenced,
    groups: members.rows.map(toGroupMembership),
  };
}

export async function findEventsByControlNumber(db: Queryable, controlNumber: string): Promise<EventDetail[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM events WHERE control_number = $1 ORDER BY id', [
    controlNumber,
  ]);
  const details: EventDetail[] = [];
  for (const { id } of rows) {
    const detail = await getEvent(db, id);
    if (detail) details.push(detail);
  }
  return details;
}

/** What /metrics shows: unfinished and dead deliveries (delivered ones are history, not queue). */
export async function readQueueState(db: Queryable): Promise<QueueState> {
  const byState = await db.query<{ destination: string; state: DeliveryState; count: number }>(
    `SELECT destination, state, count(*) AS count FROM deliveries WHERE state IN ('pending', 'inflight', 'dead')
     GROUP BY destination, state ORDER BY destination, state`,
  );
  const oldest = await db.query<{ t: number | null }>(
    `SELECT min(created_ms) AS t FROM deliveries WHERE state IN ('pending', 'inflight')`,
  );
  return { byDestination: byState.rows, oldestUnfinishedMs: oldest.rows[0]?.t ?? undefined };
}

function matching(f: ReplayFilter): { sql: string; params: unknown[] } {
  return where([
    ['state = $?', f.state],
    ['destination = $?', f.destination],
    ['updated_ms >= $?', f.sinceMs],
  ]);
}

export async function countReplayable(db: Queryable, f: ReplayFilter): Promise<number> {
  const w = matching(f);
  const { rows } = await db.query<{ n: number }>(`SELECT count(*) AS n FROM deliveries ${w.sql}`, w.params);
  return rows[0]?.n ?? 0;
}

/**
 * Puts finished deliveries back in the queue with a fresh attempt budget (the
 * attempt history stays), in the caller's transaction. Pending or in-flight
 * ones are left alone: they are already queued, and resetting a lease would
 * send twice.
 */
export async function replayDeliveries(client: ClientBase, ids: readonly string[], now: number): Promise<ReplayResult> {
  const result: ReplayResult = { requeued: [], created: [], skipped: [] };
  if (ids.length === 0) return result;
  const updated = await client.query<{ id: string }>(
    `UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_ms = $1, lease_owner = NULL,
       lease_until_ms = NULL, updated_ms = $1 WHERE id = ANY($2) AND state IN ('delivered', 'dead') RETURNING id`,
    [now, [...ids]],
  );
  const requeued = new Set(updated.rows.map((r) => r.id));
  const left = ids.filter((id) => !requeued.has(id));
  const states = left.length
    ? (await client.query<{ id: string; state: string }>('SELECT id, state FROM deliveries WHERE id = ANY($1)', [left]))
        .rows
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
  if (requeued.size > 0) await client.query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, 'replay']);
  return result;
}

/** Selects (locking them) and requeues in one transaction, so a delivery dying meanwhile is either in or out. */
export async function selectMatchingForReplay(client: ClientBase, f: ReplayFilter): Promise<string[]> {
  const w = matching(f);
  const { rows } = await client.query<{ id: string }>(
    `SELECT id FROM deliveries ${w.sql} ORDER BY id FOR UPDATE`,
    w.params,
  );
  return rows.map((r) => r.id);
}

/**
 * Sends an event again to the destinations `plan` chooses now: finished
 * deliveries are requeued, destinations it never had get a new delivery, and
 * deliveries to destinations no longer chosen are left as they are. The
 * event row is share-locked, so retention cannot remove it meanwhile.
 */
export async function replayEvent(
  client: ClientBase,
  eventId: string,
  plan: (event: RelayEvent) => NewDelivery[],
  now: number,
): Promise<ReplayResult | undefined> {
  const found = await client.query<{ body: string }>('SELECT body FROM events WHERE id = $1 FOR SHARE', [eventId]);
  const body = found.rows[0]?.body;
  if (body === undefined) return undefined;
  const planned = plan(parseEvent(body));
  const { rows } = await client.query<{ id: string; destination: string; state: string }>(
    'SELECT id, destination, state FROM deliveries WHERE event_id = $1 ORDER BY id FOR UPDATE',
    [eventId],
  );
  const result: ReplayResult = { requeued: [], created: [], skipped: [] };
  for (const p of planned) {
    if (p.groupKey !== undefined) {
      const member = await client.query<{ message_event_id: string | null }>(
        'SELECT message_event_id FROM group_members WHERE event_id = $1 AND destination = $2',
        [eventId, p.destination],
      );
      const message = member.rows[0]?.message_event_id;
      if (message === undefined) {
        await client.query(
          `INSERT INTO group_members (event_id, destination, group_key, rules, created_ms) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT DO NOTHING`,
          [eventId, p.destination, p.groupKey, JSON.stringify(p.rules), now],
        );
      }
      result.skipped.push({ id: p.id, reason: describeGroupReplay(p.destination, message) });
      continue;
    }
    const row = rows.find((r) => r.destination === p.destination);
    if (!row) {
      await client.query(
        `INSERT INTO deliveries (id, event_id, destination, rules, state, next_attempt_ms, created_ms, updated_ms)
         VALUES ($1, $2, $3, $4, 'pending', $5, $5, $5)`,
        [p.id, eventId, p.destination, JSON.stringify(p.rules), now],
      );
      result.created.push(p.id);
      continue;
    }
    await client.query('UPDATE deliveries SET rules = $1 WHERE id = $2', [JSON.stringify(p.rules), row.id]);
    const r = await replayDeliveries(client, [row.id], now);
    result.requeued.push(...r.requeued);
    result.skipped.push(...r.skipped);
  }
  for (const row of rows) {
    if (!planned.some((p) => p.destination === row.destination)) {
      result.skipped.push({ id: row.id, reason: `the rules no longer route this event to ${row.destination}` });
    }
  }
  if (result.created.length > 0) await client.query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, 'replay']);
  return result;
}
