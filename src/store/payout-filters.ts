import { FINAL_PAYOUT_STATES, PAYOUT_CONFIRMATIONS, type PayoutConfirmation } from '../event';
import type { PayoutCountFilter, PayoutFilter, StuckCutoff } from '../payouts/types';
import { all, where, type Dialect, type Script } from './sql';

/** The listings' filters over payouts as SQL (each set filter ANDed, the stuck view's cutoffs), and a listing's page. */
export const FINAL_LIST = FINAL_PAYOUT_STATES.map((s) => `'${s}'`).join(', ');

/**
 * Open payouts whose state was not reported stuck yet: the text of payouts_open's WHERE, so its index applies;
 * `noIndex` (the dialect's) for a re-read by ids, where no index on the state may be searched.
 */
export const unreported = (noIndex = ''): string =>
  `${noIndex}state NOT IN (${FINAL_LIST}) AND (stuck_state IS NULL OR stuck_state <> state)`;

function confirmationLiteral(confirmation: PayoutConfirmation): string {
  if (!PAYOUT_CONFIRMATIONS.includes(confirmation)) throw new Error(`not a confirmation: ${String(confirmation)}`);
  return `'${confirmation}'`;
}

/** The WHERE of a listing or a count, without the stuck view's cutoffs: each filter that is set, ANDed. */
export function payoutWhere(f: PayoutCountFilter & { before?: string | undefined }) {
  return where([
    ['state = ?', f.state],
    ['partner = ?', f.partner],
    ['state_since_ms < ?', f.stateSinceBeforeMs],
    ['anomalies > 0', f.anomalies],
    // A literal, so the partial indexes of the rare ones (pending, contradicted) apply; only known values reach here.
    [`confirmation = ${f.confirmation === undefined ? '' : confirmationLiteral(f.confirmation)}`, f.confirmation],
    // The same text as payouts_open's WHERE, so a query with it may read that index.
    [`state NOT IN (${FINAL_LIST})`, f.open],
    ['id < ?', f.before],
  ]);
}

/**
 * The ids a listing or a count looks at. The stuck view is one branch per cutoff (cutoffs never overlap: see
 * StuckCutoff), each read from payouts_open alone, rather than one OR that SQLite answers by gathering every match.
 */
export function selectPayoutIds(d: Dialect, f: PayoutCountFilter & { before?: string | undefined }) {
  const w = payoutWhere(f);
  if (f.stuck === undefined) return { sql: `SELECT id FROM payouts ${w.sql}`, params: w.params };
  if (f.stuck.length === 0) return { sql: 'SELECT id FROM payouts WHERE 0 = 1', params: [] };
  const branches = f.stuck.map((c) => {
    const cut = cutoffCondition(d, c);
    return {
      sql: `SELECT id FROM payouts ${w.sql ? `${w.sql} AND` : 'WHERE'} ${cut.sql}`,
      params: [...w.params, ...cut.params],
    };
  });
  return { sql: branches.map((b) => b.sql).join(' UNION ALL '), params: branches.flatMap((b) => b.params) };
}

/** How many of the newest payouts a listing by age looks at before it reads the age index instead (see agePage). */
export const AGE_PROBE_ROWS = 1000;

/**
 * A listing filtered by age alone (time in the state, no state, partner or stuck view), newest first. The id
 * order reaches old payouts only after every newer one, so an id scan is slow exactly when the filter matters. The
 * two statements: `probe` looks at the newest AGE_PROBE_ROWS alone (answers when they fill the page); `byAge` reads
 * the matching ids from payouts_since first (a materialized CTE: neither planner may fold it into an id scan) and
 * sorts them. Undefined on PostgreSQL, and with any other filter but `open`: those have an index of their own.
 */
export function agePage(d: Dialect, f: PayoutCountFilter & { before?: string | undefined }, limit: number) {
  // PostgreSQL's planner weighs the age filter from its statistics itself.
  if (d.name !== 'sqlite' || f.stateSinceBeforeMs === undefined) return undefined;
  const others = [f.state, f.partner, f.stuck, f.confirmation, f.anomalies || undefined];
  if (others.some((v) => v !== undefined)) return undefined;
  const w = payoutWhere(f);
  const newest = where([['id < ?', f.before]]);
  return {
    probe: {
      sql: `SELECT id FROM (SELECT * FROM payouts ${newest.sql} ORDER BY id DESC LIMIT ${AGE_PROBE_ROWS}) AS r
            ${w.sql} ORDER BY id DESC LIMIT ?`,
      params: [...newest.params, ...w.params, limit],
    },
    byAge: {
      sql: `WITH m AS MATERIALIZED (SELECT id FROM payouts ${w.sql}) SELECT id FROM m ORDER BY id DESC LIMIT ?`,
      params: [...w.params, limit],
    },
  };
}

/**
 * One cutoff (see StuckCutoff): in its state since before it, for its partner or every partner but the listed.
 * `noIndex` (the dialect's) keeps SQLite from searching an index for these columns: for a re-read by ids.
 */
export function cutoffCondition(d: Dialect, c: StuckCutoff, noIndex = ''): { sql: string; params: unknown[] } {
  const conditions = [`${noIndex}state = ?`, `${noIndex}state_since_ms < ?`];
  const params: unknown[] = [c.state, c.stateSinceBeforeMs];
  if (c.partner !== undefined) {
    conditions.push(`${noIndex}partner = ?`);
    params.push(c.partner);
  }
  if (c.exceptPartners !== undefined && c.exceptPartners.length > 0) {
    conditions.push(`NOT (${noIndex}partner ${d.inList})`);
    params.push(d.list(c.exceptPartners));
  }
  return { sql: `(${conditions.join(' AND ')})`, params };
}

/**
 * Past any of the cutoffs (see StuckCutoff): computed outside the store from the waits per state and partner, so
 * the stuck check, the dashboard's stuck view and its count agree. Nothing when there are none.
 */
export function stuckCondition(
  d: Dialect,
  cutoffs: readonly StuckCutoff[],
  noIndex = '',
): { sql: string; params: unknown[] } {
  if (cutoffs.length === 0) return { sql: '0 = 1', params: [] };
  const parts = cutoffs.map((c) => cutoffCondition(d, c, noIndex));
  return { sql: `(${parts.map((p) => p.sql).join(' OR ')})`, params: parts.flatMap((p) => p.params) };
}

/** The ids of one page of a listing, newest first. */
export function* payoutPage(d: Dialect, f: PayoutFilter): Script<Array<{ id: string }>> {
  const byAge = agePage(d, f, f.limit);
  if (byAge !== undefined) {
    const newest = yield* all<{ id: string }>(byAge.probe.sql, byAge.probe.params);
    return newest.length >= f.limit ? newest : yield* all<{ id: string }>(byAge.byAge.sql, byAge.byAge.params);
  }
  const ids = selectPayoutIds(d, f);
  return yield* all<{ id: string }>(`SELECT id FROM (${ids.sql}) AS p ORDER BY id DESC LIMIT ?`, [
    ...ids.params,
    f.limit,
  ]);
}
