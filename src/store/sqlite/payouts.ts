import type Database from 'better-sqlite3';
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

const FINAL_LIST = FINAL_PAYOUT_STATES.map((s) => `'${s}'`).join(', ');

/** The payouts table's SQL: called inside the event writer's transaction, and for reads and the stuck check. */
export function preparePayouts(db: Database.Database) {
  const select = db.prepare(`SELECT ${PAYOUT_COLUMNS} FROM payouts WHERE partner = ? AND control_number = ?`);
  const upsert = db.prepare(`
    INSERT INTO payouts (${PAYOUT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (partner, control_number) DO UPDATE SET state = excluded.state,
      last_seen_ms = excluded.last_seen_ms, last_deal_time = excluded.last_deal_time,
      state_since_ms = excluded.state_since_ms, stuck_state = excluded.stuck_state, anomalies = excluded.anomalies,
      confirmation = excluded.confirmation`);
  const selectEvents = db.prepare(`
    SELECT id, body, received_ms FROM events
    WHERE control_number = ? AND partner = ? AND source = 'skypay' ORDER BY id`);
  const selectCopies = db.prepare(`
    SELECT c.id, c.event_id, c.body, c.received_ms FROM callback_copies c JOIN events e ON e.id = c.event_id
    WHERE e.control_number = ? AND e.partner = ? AND e.source = 'skypay' ORDER BY c.id`);
  const insertEvent = db.prepare(`
    INSERT INTO events (id, source, type, partner, control_number, pay_type, status, deal_time, body, received_ms)
    VALUES (?, ?, ?, NULL, NULL, NULL, NULL, NULL, ?, ?)`);
  const insertDelivery = db.prepare(`
    INSERT INTO deliveries (id, event_id, destination, rules, state, next_attempt_ms, created_ms, updated_ms)
    VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`);
  const selectStuck = db.prepare(`
    SELECT ${PAYOUT_COLUMNS} FROM payouts
    WHERE state NOT IN (${FINAL_LIST}) AND state_since_ms < ? AND (stuck_state IS NULL OR stuck_state <> state)
    ORDER BY state_since_ms LIMIT ?`);
  const markStuck = db.prepare('UPDATE payouts SET stuck_state = state WHERE partner = ? AND control_number = ?');
  const selectLatestReconciliation = db.prepare(`
    SELECT id, status, outcome, detail, event_id FROM payout_reconciliations
    WHERE partner = ? AND control_number = ? ORDER BY id DESC LIMIT 1`);
  const repeatReconciliation = db.prepare(
    'UPDATE payout_reconciliations SET checks = checks + 1, last_ms = max(last_ms, ?) WHERE id = ?',
  );
  const insertReconciliation = db.prepare(`
    INSERT INTO payout_reconciliations (partner, control_number, first_ms, last_ms, status, status_desc, outcome,
      detail, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const selectReconciliations = db.prepare(`
    SELECT ${RECONCILIATION_COLUMNS} FROM payout_reconciliations WHERE partner = ? AND control_number = ? ORDER BY id`);
  const countStates = db.prepare('SELECT state, count(*) AS n FROM payouts GROUP BY state');
  const selectPendingConfirmations = db.prepare(`
    SELECT ${PAYOUT_COLUMNS} FROM payouts
    WHERE confirmation = 'pending' AND state_since_ms < ? AND (? IS NULL OR partner = ?)
      AND (? IS NULL OR NOT EXISTS (SELECT 1 FROM payout_reconciliations r WHERE r.partner = payouts.partner
        AND r.control_number = payouts.control_number AND r.last_ms >= ?))
    ORDER BY state_since_ms, id LIMIT ?`);
  const settle = db.prepare(`
    UPDATE payouts SET confirmation = ?, anomalies = anomalies + ?
    WHERE partner = ? AND control_number = ? AND state = ? AND confirmation = 'pending'`);
  const insertSilenced = db.prepare(
    'INSERT INTO event_silences (event_id, destination, silence_id, rules) VALUES (?, ?, ?, ?)',
  );

  const get = (partner: string, controlNumber: string): PayoutRecord | undefined => {
    const row = select.get(partner, controlNumber) as Row | undefined;
    return row ? toPayoutRecord(row) : undefined;
  };

  const history = (partner: string, controlNumber: string): PayoutHistoryEntry[] =>
    toPayoutHistory(
      selectEvents.all(controlNumber, partner) as Row[],
      selectCopies.all(controlNumber, partner) as Row[],
    );

  /**
   * A system event about a payout, with its deliveries: stored like any other system event (no control number of
   * its own, so listings by control number keep meaning SkyPay's statuses).
   */
  const insertSystemEvent = (event: SystemEvent, deliveries: NewDelivery[]): void => {
    const ms = Date.parse(event.receivedAt);
    insertEvent.run(event.id, event.source, event.type, stringifyEvent(event), ms);
    for (const d of deliveries) {
      // A route a silence held back is recorded on the event ("silenced by"), not sent.
      if (d.silencedBy !== undefined)
        insertSilenced.run(event.id, d.destination, d.silencedBy, JSON.stringify(d.rules));
      else insertDelivery.run(d.id, event.id, d.destination, JSON.stringify(d.rules), ms, ms, ms);
    }
  };

  /**
   * Judges `event` (whose identity is new) against its payout, updates the payout and stores what it raises. Runs in
   * the event writer's transaction, before the event itself is inserted, so the event is stored with its transition.
   */
  const apply = (event: PayoutEvent, policy: PayoutPolicy): SystemEvent[] => {
    const before = get(event.partner, event.controlNumber);
    const past = policy.needsHistory(before, event) ? history(event.partner, event.controlNumber) : [];
    const { transition, after } = policy.judge(before, event, past);
    event.transition = transition;
    event.confirmation = after.confirmation;
    upsert.run(...payoutParams(after));
    const entry: PayoutHistoryEntry = {
      eventId: event.id,
      status: event.status,
      dealTime: event.dealTime,
      receivedAt: event.receivedAt,
      kind: transition.kind,
    };
    const raised = policy.raise({ event, transition, before, after, history: [...past, entry] });
    for (const r of raised) insertSystemEvent(r, policy.plan(r));
    return raised;
  };

  const raiseStuck = db.transaction((check: StuckCheck): SystemEvent[] => {
    const rows = (selectStuck.all(check.stateSinceBeforeMs, check.limit) as Row[]).map(toPayoutRecord);
    return rows.map((p) => {
      markStuck.run(p.partner, p.controlNumber);
      const event = check.build(p);
      insertSystemEvent(event, check.plan(event));
      return event;
    });
  });

  /** The WHERE of a listing or a count: each filter that is set, ANDed. */
  const where = (f: PayoutCountFilter & { before?: string | undefined }): { sql: string; params: unknown[] } => {
    const conditions: [string, unknown][] = [
      ['state = ?', f.state],
      ['partner = ?', f.partner],
      ['state_since_ms < ?', f.stateSinceBeforeMs],
      ['anomalies > ?', f.anomalies ? 0 : undefined],
      ['confirmation = ?', f.confirmation],
      // Open has no value of its own: `1 = ?` keeps every condition one parameter, so the list stays uniform.
      [`state NOT IN (${FINAL_LIST}) AND 1 = ?`, f.open ? 1 : undefined],
      ['id < ?', f.before],
    ];
    const used = conditions.filter(([, v]) => v !== undefined);
    return {
      sql: used.length ? `WHERE ${used.map(([c]) => c).join(' AND ')}` : '',
      params: used.map(([, v]) => v),
    };
  };

  const list = (f: PayoutFilter): PayoutView[] => {
    const w = where(f);
    const rows = db
      .prepare(`SELECT ${PAYOUT_COLUMNS} FROM payouts ${w.sql} ORDER BY id DESC LIMIT ?`)
      .all(...w.params, f.limit) as Row[];
    return rows.map((r) => toPayoutView(toPayoutRecord(r)));
  };

  const count = (f: PayoutCountFilter): number => {
    const w = where(f);
    return (db.prepare(`SELECT count(*) AS n FROM payouts ${w.sql}`).get(...w.params) as { n: number }).n;
  };

  const find = (controlNumber: string, partner: string | undefined): PayoutRecord[] => {
    const rows = db
      .prepare(
        `SELECT ${PAYOUT_COLUMNS} FROM payouts WHERE control_number = ?${partner === undefined ? '' : ' AND partner = ?'}
         ORDER BY partner`,
      )
      .all(...(partner === undefined ? [controlNumber] : [controlNumber, partner])) as Row[];
    return rows.map(toPayoutRecord);
  };

  /** Open payouts oldest first; `notCheckedSinceMs` leaves out those a reconciliation row shows asked since then. */
  const listOpen = (q: OpenPayoutQuery): PayoutRecord[] => {
    const conditions: [string, unknown][] = [
      ['first_seen_ms < ?', q.firstSeenBeforeMs],
      ['partner = ?', q.partner],
      [
        `NOT EXISTS (SELECT 1 FROM payout_reconciliations r WHERE r.partner = payouts.partner
          AND r.control_number = payouts.control_number AND r.last_ms >= ?)`,
        q.notCheckedSinceMs,
      ],
    ];
    const used = conditions.filter(([, v]) => v !== undefined);
    const rows = db
      .prepare(
        `SELECT ${PAYOUT_COLUMNS} FROM payouts WHERE state NOT IN (${FINAL_LIST}) AND ${used.map(([c]) => c).join(' AND ')}
         ORDER BY first_seen_ms, id LIMIT ?`,
      )
      .all(...used.map(([, v]) => v), q.limit) as Row[];
    return rows.map(toPayoutRecord);
  };

  const recordReconciliations = db.transaction((results: readonly NewReconciliation[]) => {
    for (const r of results) {
      const latest = selectLatestReconciliation.get(r.partner, r.controlNumber) as Row | undefined;
      if (
        latest &&
        (latest['status'] ?? null) === r.status &&
        latest['outcome'] === r.outcome &&
        latest['detail'] === r.detail &&
        (latest['event_id'] ?? null) === r.eventId
      ) {
        repeatReconciliation.run(r.checkedMs, latest['id']);
        continue;
      }
      insertReconciliation.run(
        r.partner,
        r.controlNumber,
        r.checkedMs,
        r.checkedMs,
        r.status,
        r.statusDesc,
        r.outcome,
        r.detail,
        r.eventId,
      );
    }
  });

  const listPending = (q: PendingConfirmationQuery): PayoutRecord[] => {
    const partner = q.partner ?? null;
    const checked = q.notCheckedSinceMs ?? null;
    return (
      selectPendingConfirmations.all(q.stateSinceBeforeMs, partner, partner, checked, checked, q.limit) as Row[]
    ).map(toPayoutRecord);
  };

  /** The payout leaves `pending` and the event is stored with it, or neither (no longer pending in that state). */
  const settleConfirmation = db.transaction((c: ConfirmationSettlement): boolean => {
    const anomaly = c.confirmation === 'contradicted' ? 1 : 0;
    if (settle.run(c.confirmation, anomaly, c.partner, c.controlNumber, c.state).changes === 0) return false;
    insertSystemEvent(c.event, c.deliveries);
    return true;
  });

  return {
    apply,
    listOpen,
    listPending,
    settleConfirmation: (c: ConfirmationSettlement) => settleConfirmation.immediate(c),
    recordReconciliations: (results: readonly NewReconciliation[]) => recordReconciliations.immediate(results),
    reconciliationsOf: (partner: string, controlNumber: string): ReconciliationView[] =>
      (selectReconciliations.all(partner, controlNumber) as Row[]).map(toReconciliationView),
    raiseStuck: (check: StuckCheck) => raiseStuck.immediate(check),
    list,
    count,
    find,
    countByState: (): Partial<Record<PayoutState, number>> => {
      const counts: Partial<Record<PayoutState, number>> = {};
      for (const r of countStates.all() as { state: PayoutState; n: number }[]) counts[r.state] = r.n;
      return counts;
    },
  };
}
