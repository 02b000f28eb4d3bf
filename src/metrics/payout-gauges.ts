import { PAYOUT_STATES, type PayoutState } from '../event';
import type { MetricFamily } from './types';

/**
 * skyrelay_payouts{state} from the store's counts, read at scrape time like the outbox gauges: the same whichever
 * process answers. Pure: every state shows, at 0 when no payout is in it.
 */
export function payoutGauges(counts: Partial<Record<PayoutState, number>>): MetricFamily[] {
  return [
    {
      name: 'skyrelay_payouts',
      help: 'Payouts by current state (uploaded, paid, cancelled, failed, amendedSuccess, amendedFailure)',
      type: 'gauge',
      aggregator: 'first',
      values: PAYOUT_STATES.map((state) => ({ value: counts[state] ?? 0, labels: { state } })),
    },
  ];
}
