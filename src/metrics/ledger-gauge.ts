import type { LedgerDayRecord } from '../ledger/types';
import type { MetricFamily } from './types';

/**
 * skyrelay_ledger_unexplained{day}: the rows the last day's ledger could not account for, as the daily summary
 * computed it (ledger.dailyAt), read from the store at scrape time: the same whichever process answers. Absent until
 * a summary was computed. Pure.
 */
export function ledgerGauges(last: LedgerDayRecord | undefined): MetricFamily[] {
  if (last === undefined) return [];
  return [
    {
      name: 'skyrelay_ledger_unexplained',
      help: "Rows the last computed day's ledger could not account for (0: it balanced); label day in skypay.timezone",
      type: 'gauge',
      aggregator: 'first',
      values: [{ value: last.unexplained, labels: { day: last.day } }],
    },
  ];
}
