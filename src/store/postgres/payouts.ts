import type { ClientBase } from 'pg';
import {
  FINAL_PAYOUT_STATES,
  type PayoutEvent,
  type PayoutHistoryEntry,
  type PayoutState,
  type SystemEvent,
} from '../../event';
import { stringifyEvent } from '../../event-json';
import {
  PAYOUT_COLUMNS,
  RECONCILIATION_COLUMNS,
  payoutParams,
  toPayoutHistory,
  toPayoutRecord,
  toPayoutView,
  toReconciliationView,
  type Row,
} from '../rows';
import type {
  ConfirmationSettlement,
  NewDelivery,
  NewReconciliation,
  OpenPayoutQuery,
  PayoutCountFilter,
  PayoutFilter,
  PayoutPolicy,
  PayoutRecord,
  PayoutView,
  PendingConfirmationQuery,
  ReconciliationView,
  StuckCheck,
} from '../types';
import { WORK_CHANNEL } from './locks';
import { insertDeliveries } from './outbox';

type Queryable = Pick<ClientBase, 'query'>;

const FINAL_LIST = FINAL_PAYOUT_STATES.map((s) => `'${s}'`).join(', ');
const VALUES = '$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11';

async function lock(client: Queryable, partner: string, controlNumber: string): Promise<PayoutRecord | undefined> {
  const { rows } = await client.query<Row>(
    `SELECT ${PAYOUT_COLUMNS} FROM payouts WHERE partner = $1 AND control_number = $2 FOR UPDATE`,
    [partner, controlNumber],
  );
  return rows[0] ? toPayoutRecord(rows[0]) : undefined;
}

async function history(client: Queryable, partner: string, controlNumber: string): Promise<PayoutHistoryEntry[]> {
  const events = await client.query<Row>(
    `SELECT id, body, received_ms FROM events
     WHERE control_number = $1 AND partner = $2 AND source = 'skypay' ORDER BY id`,
    [controlNumber, partner],
  );
  const copies = await client.query<Row>(
    `SELECT c.id, c.event_id, c.body, c.received_ms FROM callback_copies c JOIN events e ON e.id = c.event_id
     WHERE e.control_number = $1 AND e.partner = $2 AND e.source = 'skypay' ORDER BY c.id`,
    [controlNumber, partner],
  );
  return toPayoutHistory(events.rows, copies.rows);
}

/** A system event about a payout, with its deliveries, stored like any other system event. */
async function insertSystemEvent(client: Queryable, event: SystemEvent, routes: NewDelivery[]): Promise<void> {
  const ms = Date.parse(event.receivedAt);
  await client.query(`INSERT INTO events (id, source, type, body, received_ms) VALUES ($1, $2, $3, $4, $5)`, [
    event.id,
    event.source,
    event.type,
    stringifyEvent(event),
    ms,
  ]);
  await insertSilencedRoutes(
    client,
    event.id,
    routes.filter((d) => d.silencedBy !== undefined),
  );
  const deliveries = routes.filter((d) => d.silencedBy === undefined);
  if (deliveries.length === 0) return;
  await insertDeliveries(client, event.id, ms, deliveries);
  await client.query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, 'event']);
}

async function update(client: Queryable, p: PayoutRecord): Promise<void> {
  await client.query(
    `UPDATE payouts SET state = $3, last_seen_ms = $4, last_deal_time = $5, state_since_ms = $6, stuck_state = $7,
       anomalies = $8, confirmation = $9 WHERE partner = $1 AND control_number = $2`,
    [
      p.partner,
      p.controlNumber,
      p.state,
      p.lastSeenMs,
      p.lastDealTime,
      p.stateSinceMs,
      p.stuckState,
      p.anomalies,
      p.confirmation,
    ],
  );
}

/**
 * Judges `event` (whose identity is new) against its payout inside the event's transaction: the payout row is
 * locked FOR UPDATE, so two callbacks of one payout in two processes are judged one after the other. A payout
 * never seen is inserted with ON CONFLICT DO NOTHING: when another transaction inserted it meanwhile, this one
 * waits for it, then locks that row and judges again.
 */
export async function applyPayout(client: Queryable, event: PayoutEvent, policy: PayoutPolicy): Promise<SystemEvent[]> {
  const pastOf = (before: PayoutRecord | undefined): Promise<PayoutHistoryEntry[]> | PayoutHistoryEntry[] =>
    policy.needsHistory(before, event) ? history(client, event.partner, event.controlNumber) : [];
  let before = await lock(client, event.partner, event.controlNumber);
  let past = await pastOf(before);
  let judged = policy.judge(before, event, past);
  if (before) {
    await update(client, judged.after);
  } else {
    const added = await client.query(
      `INSERT INTO payouts (${PAYOUT_COLUMNS}) VALUES (${VALUES}) ON CONFLICT (partner, control_number) DO NOTHING`,
      payoutParams(judged.after),
    );
    if (added.rowCount === 0) {
      before = await lock(client, event.partner, event.controlNumber);
      past = await pastOf(before);
      judged = policy.judge(before, event, past);
      await update(client, judged.after);
    }
  }
  const { transition, after } = judged;
  event.transition = transition;
  event.confirmation = after.confirmation;
  const entry: PayoutHistoryEntry = {
    eventId: event.id,
    status: event.status,
    dealTime: event.dealTime,
    receivedAt: event.receivedAt,
    kind: transition.kind,
  };
  const raised = policy.raise({ event, transition, before, after, history: [...past, entry] });
  for (const r of raised) await insertSystemEvent(client, r, policy.plan(r));
  return raised;
}

export async function raiseStuck(client: Queryable, check: StuckCheck): Promise<SystemEvent[]> {
  // SKIP LOCKED: a payout whose callback is being stored right now is looked at on the next round.
  const { rows } = await client.query<Row>(
    `SELECT ${PAYOUT_COLUMNS} FROM payouts
     WHERE state NOT IN (${FINAL_LIST}) AND state_since_ms < $1 AND (stuck_state IS NULL OR stuck_state <> state)
     ORDER BY state_since_ms LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [check.stateSinceBeforeMs, check.limit],
  );
  const raised: SystemEvent[] = [];
  for (const p of rows.map(toPayoutRecord)) {
    await client.query('UPDATE payouts SET stuck_state = state WHERE partner = $1 AND control_number = $2', [
      p.partner,
      p.controlNumber,
    ]);
    const event = check.build(p);
    await insertSystemEvent(client, event, check.plan(event));
    raised.push(event);
  }
  return raised;
}

/** The WHERE of a listing or a count, numbering its parameters from $1. */
function payoutWhere(f: PayoutCountFilter & { before?: string | undefined }): { sql: string; params: unknown[] } {
  const conditions: [string, unknown][] = [
    ['state = $?', f.state],
    ['partner = $?', f.partner],
    ['state_since_ms < $?', f.stateSinceBeforeMs],
    ['anomalies > $?', f.anomalies ? 0 : undefined],
    ['confirmation = $?', f.confirmation],
    // Open has no value of its own: `1 = ?` keeps every condition one parameter, so the list stays uniform.
    [`state NOT IN (${FINAL_LIST}) AND 1 = $?`, f.open ? 1 : undefined],
    ['id < $?', f.before],
  ];
  const used = conditions.filter(([, v]) => v !== undefined);
  const sql = used.map(([c], i) => c.replace('$?', `$${i + 1}`)).join(' AND ');
  return { sql: used.length ? `WHERE ${sql}` : '', params: used.map(([, v]) => v) };
}

export async function listPayouts(db: Queryable, f: PayoutFilter): Promise<PayoutView[]> {
  const w = payoutWhere(f);
  const { rows } = await db.query<Row>(
    `SELECT ${PAYOUT_COLUMNS} FROM payouts ${w.sql} ORDER BY id DESC LIMIT $${w.params.length + 1}`,
    [...w.params, f.limit],
  );
  return rows.map((r) => toPayoutView(toPayoutRecord(r)));
}

export async function countPayouts(db: Queryable, f: PayoutCountFilter): Promise<number> {
  const w = payoutWhere(f);
  const { rows } = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM payouts ${w.sql}`, w.params);
  return Number(rows[0]?.n ?? 0);
}

export async function findPayouts(db: Queryable, controlNumber: string, partner?: string): Promise<PayoutRecord[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${PAYOUT_COLUMNS} FROM payouts WHERE control_number = $1${partner === undefined ? '' : ' AND partner = $2'}
     ORDER BY partner`,
    partner === undefined ? [controlNumber] : [controlNumber, partner],
  );
  return rows.map(toPayoutRecord);
}

/** Open payouts oldest first; `notCheckedSinceMs` leaves out those a reconciliation row shows asked since then. */
export async function listOpenPayouts(db: Queryable, q: OpenPayoutQuery): Promise<PayoutRecord[]> {
  const conditions: [string, unknown][] = [
    ['first_seen_ms < $?', q.firstSeenBeforeMs],
    ['partner = $?', q.partner],
    [
      `NOT EXISTS (SELECT 1 FROM payout_reconciliations r WHERE r.partner = payouts.partner
        AND r.control_number = payouts.control_number AND r.last_ms >= $?)`,
      q.notCheckedSinceMs,
    ],
  ];
  const used = conditions.filter(([, v]) => v !== undefined);
  const sql = used.map(([c], i) => c.replace('$?', `$${i + 1}`)).join(' AND ');
  const { rows } = await db.query<Row>(
    `SELECT ${PAYOUT_COLUMNS} FROM payouts WHERE state NOT IN (${FINAL_LIST}) AND ${sql}
     ORDER BY first_seen_ms, id LIMIT $${used.length + 1}`,
    [...used.map(([, v]) => v), q.limit],
  );
  return rows.map(toPayoutRecord);
}

/** Final payouts pending confirmation, oldest in their state first; `notCheckedSinceMs` as listOpenPayouts. */
export async function listPendingConfirmations(db: Queryable, q: PendingConfirmationQuery): Promise<PayoutRecord[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${PAYOUT_COLUMNS} FROM payouts
     WHERE confirmation = 'pending' AND state_since_ms < $1 AND ($2::text IS NULL OR partner = $2)
       AND ($3::bigint IS NULL OR NOT EXISTS (SELECT 1 FROM payout_reconciliations r WHERE r.partner = payouts.partner
         AND r.control_number = payouts.control_number AND r.last_ms >= $3))
     ORDER BY state_since_ms, id LIMIT $4`,
    [q.stateSinceBeforeMs, q.partner ?? null, q.notCheckedSinceMs ?? null, q.limit],
  );
  return rows.map(toPayoutRecord);
}

/**
 * Settles a pending confirmation in the caller's transaction: the conditional UPDATE takes the payout's row lock,
 * so of two processes settling it at once, the second finds it no longer pending and stores nothing.
 */
export async function settleConfirmation(client: Queryable, c: ConfirmationSettlement): Promise<boolean> {
  const updated = await client.query(
    `UPDATE payouts SET confirmation = $1, anomalies = anomalies + $2
     WHERE partner = $3 AND control_number = $4 AND state = $5 AND confirmation = 'pending'`,
    [c.confirmation, c.confirmation === 'contradicted' ? 1 : 0, c.partner, c.controlNumber, c.state],
  );
  if (updated.rowCount === 0) return false;
  await insertSystemEvent(client, c.event, c.deliveries);
  return true;
}

/**
 * Records reconciliation results in the caller's transaction. Each payout's latest row is locked FOR UPDATE, so two
 * processes recording the same payout (a CLI round next to the daemon's) count on one row, one after the other.
 */
export async function recordReconciliations(client: Queryable, results: readonly NewReconciliation[]): Promise<void> {
  for (const r of results) {
    const { rows } = await client.query<Row>(
      `SELECT id, status, outcome, detail, event_id FROM payout_reconciliations
       WHERE partner = $1 AND control_number = $2 ORDER BY id DESC LIMIT 1 FOR UPDATE`,
      [r.partner, r.controlNumber],
    );
    const latest = rows[0];
    if (
      latest &&
      (latest['status'] ?? null) === r.status &&
      latest['outcome'] === r.outcome &&
      latest['detail'] === r.detail &&
      (latest['event_id'] ?? null) === r.eventId
    ) {
      await client.query(
        'UPDATE payout_reconciliations SET checks = checks + 1, last_ms = greatest(last_ms, $1) WHERE id = $2',
        [r.checkedMs, latest['id']],
      );
      continue;
    }
    await client.query(
      `INSERT INTO payout_reconciliations (partner, control_number, first_ms, last_ms, status, status_desc, outcome,
         detail, event_id) VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8)`,
      [r.partner, r.controlNumber, r.checkedMs, r.status, r.statusDesc, r.outcome, r.detail, r.eventId],
    );
  }
}

export async function listReconciliations(
  db: Queryable,
  partner: string,
  controlNumber: string,
): Promise<ReconciliationView[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${RECONCILIATION_COLUMNS} FROM payout_reconciliations WHERE partner = $1 AND control_number = $2
     ORDER BY id`,
    [partner, controlNumber],
  );
  return rows.map(toReconciliationView);
}

export async function countPayoutsByState(db: Queryable): Promise<Partial<Record<PayoutState, number>>> {
  const { rows } = await db.query<{ state: PayoutState; n: string | number }>(
    'SELECT state, count(*) AS n FROM payouts GROUP BY state',
  );
  const counts: Partial<Record<PayoutState, number>> = {};
  for (const r of rows) counts[r.state] = Number(r.n);
  return counts;
}

/** Routes a silence held back: recorded on the event ("silenced by"), so nothing looks lost. */
export async function insertSilencedRoutes(client: Queryable, eventId: string, silenced: NewDelivery[]): Promise<void> {
  if (silenced.length === 0) return;
  await client.query(
    `INSERT INTO event_silences (event_id, destination, silence_id, rules)
     SELECT $1, s.destination, s.silence_id, s.rules FROM unnest($2::text[], $3::text[], $4::text[])
     AS s (destination, silence_id, rules)`,
    [
      eventId,
      silenced.map((d) => d.destination),
      silenced.map((d) => d.silencedBy),
      silenced.map((d) => JSON.stringify(d.rules)),
    ],
  );
}
