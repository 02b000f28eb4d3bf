import {
  FINAL_PAYOUT_STATES,
  PAYOUT_STATES,
  type PayoutEvent,
  type PayoutHistoryEntry,
  type PayoutState,
  type SystemEvent,
} from '../event';
import { sortHistory } from '../payouts/decisions';
import type { StoreContext } from './context';
import { eventsOfControlNumber } from './inspect';
import { WriteRaceError } from './errors';
import {
  PAYOUT_COLUMNS,
  RECONCILIATION_COLUMNS,
  payoutParams,
  toPayoutHistory,
  toPayoutRecord,
  toPayoutView,
  toReconciliationView,
  type Row,
} from './rows';
import { all, get, rows, run, where, type Dialect, type RowSource, type Script } from './sql';
import type { PayoutStore } from './store';
import type {
  ConfirmationSettlement,
  NewReconciliation,
  PayoutCountFilter,
  PayoutPolicy,
  PayoutRecord,
  PendingConfirmationQuery,
  StuckCheck,
} from '../payouts/types';
import { WRITER_SHARD } from './shard';
import { FINAL_LIST, cutoffCondition, payoutPage, selectPayoutIds, stuckCondition, unreported } from './payout-filters';
import { insertEvents } from './writes';

const OPEN_STATES = PAYOUT_STATES.filter((s) => !FINAL_PAYOUT_STATES.includes(s));

/** `{ open: true }` and nothing else: the overview's open count, which the kept counts answer. */
function isOnlyOpen(f: PayoutCountFilter): boolean {
  return Object.entries(f).every(([k, v]) => (k === 'open' ? v === true : v === undefined));
}

const KEY_COLUMNS: RowSource['columns'] = [
  ['partner', 'text'],
  ['control_number', 'text'],
];

const PAYOUT_ROW_COLUMNS: RowSource['columns'] = [
  ['id', 'text'],
  ['partner', 'text'],
  ['control_number', 'text'],
  ['state', 'text'],
  ['first_seen_ms', 'bigint'],
  ['last_seen_ms', 'bigint'],
  ['last_deal_time', 'text'],
  ['state_since_ms', 'bigint'],
  ['stuck_state', 'text'],
  ['anomalies', 'int'],
  ['confirmation', 'text'],
];

/** A payout event to judge in its transaction, with the policy that judges it. */
export interface PayoutWrite {
  event: PayoutEvent;
  policy: PayoutPolicy;
}

const keyOf = (partner: string, controlNumber: string): string => JSON.stringify([partner, controlNumber]);

/**
 * Judges each event (all with identities new to the store) against its payout, in the order given, inside the
 * batch's transaction: the payouts are read locked (PostgreSQL: FOR UPDATE, in key order, so two processes judge
 * one payout one after the other), updated once each, and what the policy raises is returned per event, to be
 * stored beside it. `event.transition` and `event.confirmation` are set, so the event is stored with them.
 *
 * An event judged after an earlier one of the same payout in this batch is judged as if that one were stored: its
 * `before` is the payout after it, and its history (when the policy asks for one) holds it.
 *
 * A payout new to this batch that another process inserted meanwhile (PostgreSQL only: SQLite's write transaction
 * excludes every other) fails the batch with WriteRaceError; the group commit writes it again, and the second
 * time the row is there to lock.
 */
export function* judgePayouts(d: Dialect, writes: readonly PayoutWrite[]): Script<SystemEvent[][]> {
  if (writes.length === 0) return [];
  const keys = new Map(writes.map(({ event: e }) => [keyOf(e.partner, e.controlNumber), [e.partner, e.controlNumber]]));
  const found = yield* rows<Row>(
    `SELECT ${PAYOUT_COLUMNS} FROM payouts
     WHERE (partner, control_number) IN (SELECT r.partner, r.control_number FROM :rows AS r)
     ORDER BY partner${d.byteOrder}, control_number${d.byteOrder}${d.forUpdate}`,
    { columns: KEY_COLUMNS, rows: [...keys.values()].sort(compareKeys) },
  );
  const current = new Map(
    found.map((r) => [keyOf(String(r['partner']), String(r['control_number'])), toPayoutRecord(r)]),
  );
  const existed = new Set(current.keys());
  const inBatch = new Map<string, PayoutHistoryEntry[]>();
  // A payout's stored timeline, read at most once a batch: this batch's events are stored only after judging.
  const stored = new Map<string, PayoutHistoryEntry[]>();
  const raised: SystemEvent[][] = [];
  for (const { event, policy } of writes) {
    const key = keyOf(event.partner, event.controlNumber);
    const before = current.get(key);
    const earlier = inBatch.get(key) ?? [];
    let past: PayoutHistoryEntry[] = [];
    if (policy.needsHistory(before, event)) {
      let timeline = stored.get(key);
      if (timeline === undefined) {
        timeline = existed.has(key) ? yield* readHistory(event.partner, event.controlNumber) : [];
        stored.set(key, timeline);
      }
      // The stored history, and this batch's earlier events of the payout, not stored yet.
      past = sortHistory([...timeline, ...earlier]);
    }
    const { transition, after } = policy.judge(before, event, past);
    event.transition = transition;
    event.confirmation = after.confirmation;
    current.set(key, after);
    const entry: PayoutHistoryEntry = {
      eventId: event.id,
      status: event.status,
      dealTime: event.dealTime,
      receivedAt: event.receivedAt,
      kind: transition.kind,
    };
    raised.push(policy.raise({ event, transition, before, after, history: [...past, entry] }));
    inBatch.set(key, [...earlier, entry]);
  }
  const changed = [...current].filter(([key]) => existed.has(key)).map(([, p]) => payoutParams(p));
  const added = [...current].filter(([key]) => !existed.has(key)).map(([, p]) => payoutParams(p));
  // Each payout counted once in its state: out of the one it was stored in, into the one it is stored in now.
  const counts = new Map<PayoutState, number>();
  const count = (state: PayoutState, by: number) => counts.set(state, (counts.get(state) ?? 0) + by);
  for (const r of found) count(r['state'] as PayoutState, -1);
  for (const p of current.values()) count(p.state, 1);
  const inserted = yield* rows(
    `INSERT INTO payouts (${PAYOUT_COLUMNS})
     SELECT r.id, r.partner, r.control_number, r.state, r.first_seen_ms, r.last_seen_ms, r.last_deal_time,
       r.state_since_ms, r.stuck_state, r.anomalies, r.confirmation FROM :rows AS r WHERE true
     ON CONFLICT (partner, control_number) DO NOTHING RETURNING partner`,
    { columns: PAYOUT_ROW_COLUMNS, rows: added },
  );
  if (inserted.length < added.length)
    throw new WriteRaceError('a payout was first stored by another process meanwhile');
  yield* rows(
    `UPDATE payouts SET state = r.state, last_seen_ms = r.last_seen_ms, last_deal_time = r.last_deal_time,
       state_since_ms = r.state_since_ms, stuck_state = r.stuck_state, anomalies = r.anomalies,
       confirmation = r.confirmation
     FROM :rows AS r WHERE payouts.partner = r.partner AND payouts.control_number = r.control_number`,
    { columns: PAYOUT_ROW_COLUMNS, rows: changed },
  );
  yield* addPayoutCounts(counts);
  return raised;
}

/** Adds the changes of payouts per state to the kept counts: one row per changed state, in state order. */
function* addPayoutCounts(changes: ReadonlyMap<PayoutState, number>): Script<void> {
  const changed = [...changes].filter(([, n]) => n !== 0).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  yield* rows(
    `INSERT INTO payout_counts (state, shard, n) SELECT r.state, CAST(? AS INTEGER), r.n FROM :rows AS r WHERE true
     ON CONFLICT (state, shard) DO UPDATE SET n = payout_counts.n + excluded.n`,
    {
      columns: [
        ['state', 'text'],
        ['n', 'bigint'],
      ],
      rows: changed,
    },
    [WRITER_SHARD],
  );
}

/** Payouts per state as kept by addPayoutCounts (states with none are absent). */
function* readPayoutCounts(): Script<Partial<Record<PayoutState, number>>> {
  const found = yield* all<{ state: PayoutState; n: number }>(
    'SELECT state, sum(n) AS n FROM payout_counts GROUP BY state',
  );
  const counts: Partial<Record<PayoutState, number>> = {};
  for (const r of found) if (Number(r.n) > 0) counts[r.state] = Number(r.n);
  return counts;
}

function compareKeys(a: readonly string[], b: readonly string[]): number {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A payout's timeline as stored: its events and its conflicting copies. */
function* readHistory(partner: string, controlNumber: string): Script<PayoutHistoryEntry[]> {
  const events = yield* all(
    `SELECT id, body, received_ms FROM events
     WHERE control_number = ? AND partner = ? AND source = 'skypay' ORDER BY id`,
    [controlNumber, partner],
  );
  const copies = yield* all(
    `SELECT c.id, c.event_id, c.body, c.received_ms FROM callback_copies c JOIN events e ON e.id = c.event_id
     WHERE e.control_number = ? AND e.partner = ? AND e.source = 'skypay' ORDER BY c.id`,
    [controlNumber, partner],
  );
  return toPayoutHistory(events, copies);
}

/** Marks open payouts stuck in their state and stores one event each, in one transaction. */
function* raiseStuck(d: Dialect, check: StuckCheck): Script<SystemEvent[]> {
  if (check.cutoffs.length === 0) return [];
  // The oldest past a cutoff, one branch per cutoff read from payouts_open alone: this runs on the writer, and the
  // payouts reported before (stuck ones stay so) must cost no row reads.
  const branches = check.cutoffs.map((c) => cutoffCondition(d, c));
  const candidates = yield* all<{ id: string }>(
    `SELECT id FROM (${branches
      .map((b) => `SELECT id, state_since_ms FROM payouts WHERE ${unreported()} AND ${b.sql}`)
      .join(' UNION ALL ')}) AS p ORDER BY state_since_ms LIMIT ?`,
    [...branches.flatMap((b) => b.params), check.limit],
  );
  if (candidates.length === 0) return [];
  // Locked and judged again (PostgreSQL re-checks a locked row's WHERE). SKIP LOCKED: a payout whose callback is
  // being stored right now is looked at on the next round.
  // noIndex on every other column: SQLite (no statistics) would otherwise read the cutoffs' state, partner or age
  // through their indexes, every payout in those states or of that partner, instead of the hundred ids.
  const stuckAt = stuckCondition(d, check.cutoffs, d.noIndex);
  const found = yield* all(
    `SELECT ${PAYOUT_COLUMNS} FROM payouts WHERE id ${d.inList} AND ${unreported(d.noIndex)} AND ${stuckAt.sql}
     ORDER BY state_since_ms${d.forUpdateSkipLocked}`,
    [d.list(candidates.map((c) => c.id)), ...stuckAt.params],
  );
  const stuck = found.map(toPayoutRecord);
  yield* rows(
    `UPDATE payouts SET stuck_state = state FROM :rows AS r
     WHERE payouts.partner = r.partner AND payouts.control_number = r.control_number`,
    { columns: KEY_COLUMNS, rows: stuck.map((p) => [p.partner, p.controlNumber]) },
  );
  const events = stuck.map((p) => check.build(p));
  const now = Date.now();
  yield* insertEvents(
    d,
    events.map((event) => ({ event, receivedMs: Date.parse(event.receivedAt), routes: check.plan(event) })),
    now,
  );
  return events;
}

/**
 * Records reconciliation results. Each payout's latest row is locked (PostgreSQL: FOR UPDATE), so two processes
 * recording the same payout (a CLI round next to the daemon's) count on one row, one after the other.
 */
function* recordReconciliations(d: Dialect, results: readonly NewReconciliation[]): Script<void> {
  for (const r of results) {
    const latest = yield* get(
      `SELECT id, status, outcome, detail, event_id FROM payout_reconciliations
       WHERE partner = ? AND control_number = ? ORDER BY id DESC LIMIT 1${d.forUpdate}`,
      [r.partner, r.controlNumber],
    );
    if (
      latest &&
      (latest['status'] ?? null) === r.status &&
      latest['outcome'] === r.outcome &&
      latest['detail'] === r.detail &&
      (latest['event_id'] ?? null) === r.eventId
    ) {
      yield* run(
        `UPDATE payout_reconciliations SET checks = checks + 1, last_ms = ${d.greatest}(last_ms, ?) WHERE id = ?`,
        [r.checkedMs, latest['id']],
      );
      continue;
    }
    yield* run(
      `INSERT INTO payout_reconciliations (partner, control_number, first_ms, last_ms, status, status_desc, outcome,
         detail, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [r.partner, r.controlNumber, r.checkedMs, r.checkedMs, r.status, r.statusDesc, r.outcome, r.detail, r.eventId],
    );
  }
}

/** A reconciliation that was asked about the payout at or after `sinceMs` (none when undefined). */
const CHECKED_SINCE = `NOT EXISTS (SELECT 1 FROM payout_reconciliations r WHERE r.partner = payouts.partner
  AND r.control_number = payouts.control_number AND r.last_ms >= ?)`;

/** Final payouts pending confirmation, oldest in their final state first (the partial index holds only them). */
function* listPendingConfirmations(q: PendingConfirmationQuery): Script<PayoutRecord[]> {
  const w = where([
    ["confirmation = 'pending'", true],
    ['state_since_ms < ?', q.stateSinceBeforeMs],
    ['partner = ?', q.partner],
    [CHECKED_SINCE, q.notCheckedSinceMs],
  ]);
  const found = yield* all(`SELECT ${PAYOUT_COLUMNS} FROM payouts ${w.sql} ORDER BY state_since_ms, id LIMIT ?`, [
    ...w.params,
    q.limit,
  ]);
  return found.map(toPayoutRecord);
}

/**
 * The payout leaves `pending` and the event is stored with its deliveries, or neither: when it is no longer pending
 * in that state (another process settled it, or a later status moved it). The conditional UPDATE takes the payout's
 * row lock (PostgreSQL re-checks the condition after waiting for it), so two processes settling at once settle once.
 */
function* settleConfirmation(d: Dialect, c: ConfirmationSettlement): Script<boolean> {
  const changed = yield* run(
    `UPDATE payouts SET confirmation = ?, anomalies = anomalies + ?
     WHERE partner = ? AND control_number = ? AND state = ? AND confirmation = 'pending'`,
    [c.confirmation, c.confirmation === 'contradicted' ? 1 : 0, c.partner, c.controlNumber, c.state],
  );
  if (changed === 0) return false;
  yield* insertEvents(
    d,
    [{ event: c.event, receivedMs: Date.parse(c.event.receivedAt), routes: c.deliveries }],
    Date.now(),
  );
  return true;
}

function* findPayouts(controlNumber: string, partner: string | undefined): Script<PayoutRecord[]> {
  const found = yield* all(
    `SELECT ${PAYOUT_COLUMNS} FROM payouts WHERE control_number = ?${partner === undefined ? '' : ' AND partner = ?'}
     ORDER BY partner`,
    partner === undefined ? [controlNumber] : [controlNumber, partner],
  );
  return found.map(toPayoutRecord);
}

/** Payouts: one row per (partner, controlNumber), kept by the ingest transaction (judgePayouts). */
export function createPayoutStore(ctx: StoreContext): PayoutStore {
  const { read, write, d } = ctx;
  return {
    listPayouts: (f) =>
      read(function* () {
        const page = yield* payoutPage(d, f);
        if (page.length === 0) return [];
        const found = yield* all(`SELECT ${PAYOUT_COLUMNS} FROM payouts WHERE id ${d.inList} ORDER BY id DESC`, [
          d.list(page.map((r) => r.id)),
        ]);
        return found.map((r) => toPayoutView(toPayoutRecord(r)));
      }),
    countPayouts: (f) =>
      read(function* () {
        if (isOnlyOpen(f)) {
          const counts = yield* readPayoutCounts();
          return OPEN_STATES.reduce((n, state) => n + (counts[state] ?? 0), 0);
        }
        const ids = selectPayoutIds(d, f);
        const row = yield* get<{ n: number }>(`SELECT count(*) AS n FROM (${ids.sql}) AS p`, ids.params);
        return Number(row?.n ?? 0);
      }),
    getPayouts: (controlNumber, partner) =>
      read(function* () {
        const found = yield* findPayouts(controlNumber, partner);
        if (found.length === 0) return [];
        const events = yield* eventsOfControlNumber(ctx, controlNumber);
        const details = [];
        for (const p of found) {
          const reconciliations = yield* all(
            `SELECT ${RECONCILIATION_COLUMNS} FROM payout_reconciliations WHERE partner = ? AND control_number = ?
             ORDER BY id`,
            [p.partner, p.controlNumber],
          );
          details.push({
            payout: toPayoutView(p),
            events: events.filter((e) => e.event.source === 'skypay' && e.event.partner === p.partner),
            reconciliations: reconciliations.map(toReconciliationView),
          });
        }
        return details;
      }),
    listOpenPayouts: (q) =>
      read(function* () {
        const w = where([
          [`state NOT IN (${FINAL_LIST})`, true],
          ['first_seen_ms < ?', q.firstSeenBeforeMs],
          ['partner = ?', q.partner],
          [CHECKED_SINCE, q.notCheckedSinceMs],
        ]);
        const found = yield* all(`SELECT ${PAYOUT_COLUMNS} FROM payouts ${w.sql} ORDER BY first_seen_ms, id LIMIT ?`, [
          ...w.params,
          q.limit,
        ]);
        return found.map(toPayoutRecord);
      }),
    recordReconciliations: (results) => write(() => recordReconciliations(d, results)),
    listPendingConfirmations: (q) => read(() => listPendingConfirmations(q)),
    settleConfirmation: (c) => write(() => settleConfirmation(d, c)),
    raiseStuckPayouts: (check) => write(() => raiseStuck(d, check)),
    countPayoutsByState: () => read(() => readPayoutCounts()),
  };
}
