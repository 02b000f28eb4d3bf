import { isFinalState, type PayType, type PayoutState, type Transition } from '../event';

/**
 * The payout state machine (SkyPay's lifecycle, ../shared/skypay/lifecycle.md): pure, so it is judged the same in
 * the store's transaction on SQLite and PostgreSQL, and unit-tested alone.
 */

const STATE_OF_PAY_TYPE: Readonly<Record<PayType, PayoutState>> = {
  1: 'uploaded',
  2: 'paid',
  3: 'cancelled',
  4: 'failed',
  5: 'amendedSuccess',
  6: 'amendedFailure',
};

export function stateOf(payType: PayType): PayoutState {
  return STATE_OF_PAY_TYPE[payType];
}

export const isFinal = isFinalState;

/** What the judgment needs of a payout already known. */
export interface PayoutSoFar {
  state: PayoutState;
  /** The newest dealTime among its statuses (SkyPay's `yyyy-MM-dd HH:mm:ss`, one zone, so text order is time order). */
  lastDealTime: string;
}

/**
 * How a new status moves a payout. Order of the checks matters:
 * - two different final statuses can never both be true, whatever their order: conflict;
 * - a status older than one already seen is late and moves nothing back (except a final one closing an open payout);
 * - anything newer after a final status is impossible: after-final, and the payout stays final;
 * - 5 and 6 amend and leave it open; the rest move forward.
 */
export function judge(payout: PayoutSoFar | undefined, payType: PayType, dealTime: string): Transition {
  const next = stateOf(payType);
  if (!payout) return { from: null, to: next, kind: 'first' };
  const from = payout.state;
  if (isFinal(from) && isFinal(next) && next !== from) return { from, to: from, kind: 'conflict' };
  if (dealTime < payout.lastDealTime) {
    return { from, to: isFinal(next) && !isFinal(from) ? next : from, kind: 'late' };
  }
  if (isFinal(from)) return { from, to: from, kind: 'after-final' };
  if (payType === 5 || payType === 6) return { from, to: next, kind: 'amendment' };
  return { from, to: next, kind: 'forward' };
}

/** The kinds ops must look at: a payout that did something impossible. */
export function isAnomaly(transition: Transition): boolean {
  return transition.kind === 'after-final' || transition.kind === 'conflict';
}
