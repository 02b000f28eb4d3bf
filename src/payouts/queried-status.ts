import type { QueriedPayout } from '../skypay/status-query';

/** SkyPay's status codes in a 7.1 answer (status-query.md). */
export const QUERY_STATUSES = {
  0: 'Pending',
  1: 'Completed',
  2: 'Uploaded',
  3: 'Cancelled',
  4: 'Failed',
  10: 'Inquiry Success',
  11: 'Inquiry Failure',
} as const;

/** Which queried time a meaning's dealTime was taken from. */
export type DealTimeSource = 'payTime' | 'cancelTime' | 'transactionDate';

/**
 * What a queried status means for a payout:
 * - `final`: SkyPay holds a final status, the one a callback of `payType` (2 paid, 3 cancel, 4 failure) reports;
 *   `dealTime` is the time such a callback would carry, so an event made from it and a late real callback share an
 *   identity. Undefined when SkyPay sent no time at all: the status is known, its event cannot be keyed.
 * - `open`: still uploaded (including a cancellation SkyPay has not completed: no cancelTime).
 * - `record`: a status that says nothing about the payout's lifecycle (0 Pending, 10, 11, or a code SkyPay does not
 *   document): kept for the record, never turned into an event.
 */
export type QueriedMeaning =
  | {
      kind: 'final';
      state: 'paid' | 'cancelled' | 'failed';
      payType: 2 | 3 | 4;
      dealTime: string | undefined;
      dealTimeFrom: DealTimeSource | undefined;
    }
  | { kind: 'open'; state: 'uploaded'; reason: string }
  | { kind: 'record'; reason: string };

/** Pure: what SkyPay's answer for one payout means, by the rules in SkyPay's status-query.md. */
export function interpretQueriedStatus(payout: QueriedPayout): QueriedMeaning {
  switch (payout.status) {
    case 1:
      return final('paid', 2, pick(payout, ['payTime', 'transactionDate']));
    case 2:
      return { kind: 'open', state: 'uploaded', reason: 'Uploaded' };
    case 3:
      // SkyPay: a cancellation has succeeded only if the status is Cancelled AND cancelTime is not empty.
      if (payout.cancelTime === '') {
        return { kind: 'open', state: 'uploaded', reason: 'Cancelled without a cancelTime: not cancelled yet' };
      }
      return final('cancelled', 3, pick(payout, ['cancelTime']));
    case 4:
      return final('failed', 4, pick(payout, ['transactionDate']));
    case 0:
    case 10:
    case 11:
      return { kind: 'record', reason: QUERY_STATUSES[payout.status] };
    default:
      return { kind: 'record', reason: `status ${payout.status} is not documented by SkyPay` };
  }
}

function final(
  state: 'paid' | 'cancelled' | 'failed',
  payType: 2 | 3 | 4,
  time: { dealTime: string; dealTimeFrom: DealTimeSource } | undefined,
): QueriedMeaning {
  return { kind: 'final', state, payType, dealTime: time?.dealTime, dealTimeFrom: time?.dealTimeFrom };
}

/** The first non-empty of the named times. */
function pick(
  payout: QueriedPayout,
  order: readonly DealTimeSource[],
): { dealTime: string; dealTimeFrom: DealTimeSource } | undefined {
  for (const name of order) {
    if (payout[name] !== '') return { dealTime: payout[name], dealTimeFrom: name };
  }
  return undefined;
}
