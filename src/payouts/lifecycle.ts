import {
  isFinalState,
  type PayType,
  type PayoutConfirmation,
  type PayoutHistoryEntry,
  type PayoutState,
  type Transition,
} from '../event';

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

/**
 * The status already on the payout with exactly this dealTime, if any: the fingerprint of a spliced AES-ECB forgery
 * (a captured callback of this payout with its payType block swapped for the same block of another callback keeps
 * the captured dealTime). `past` is the payout's timeline before this status (its conflicting copies left out: they
 * repeat a status's identity). When the status with that time is gone (pruned), the payout's newest dealTime still
 * tells: `{ status: undefined }`. Undefined for a payout never seen, or a time no status had.
 */
export function findSameTime(
  payout: PayoutSoFar | undefined,
  dealTime: string,
  past: readonly PayoutHistoryEntry[],
): { status: PayoutHistoryEntry | undefined } | undefined {
  if (!payout) return undefined;
  const status = past.find((e) => e.copyOf === undefined && e.dealTime === dealTime);
  if (status) return { status };
  return dealTime === payout.lastDealTime ? { status: undefined } : undefined;
}

/**
 * The payout's confirmation after a transition (see PayoutConfirmation): a payout that becomes final waits for
 * SkyPay's status query (`pending`) when its final status came by callback and the query is configured
 * (`statusQueryOn`); one SkyPay's query reported itself (origin reconciliation) is `confirmed`; a payout that stays
 * final keeps its confirmation, whatever came after (an anomaly of its own says so); an open one has none (`off`).
 */
export function confirmationAfter(
  before: PayoutConfirmation | undefined,
  transition: Transition,
  origin: 'callback' | 'reconciliation',
  statusQueryOn: boolean,
): PayoutConfirmation {
  if (!isFinal(transition.to)) return 'off';
  const becameFinal = transition.from === null || !isFinal(transition.from);
  if (!becameFinal) return before ?? 'off';
  if (origin === 'reconciliation') return 'confirmed';
  return statusQueryOn ? 'pending' : 'off';
}

/** A payout's confirmation in words, for the CLI and the dashboard. */
export function describeConfirmation(confirmation: PayoutConfirmation): string {
  switch (confirmation) {
    case 'pending':
      return "not confirmed yet: SkyPay's status query is asked once the final status is minAgeMs old";
    case 'confirmed':
      return "SkyPay's status query says the same final status";
    case 'contradicted':
      return "SkyPay's status query says otherwise (payout.anomaly, kind unconfirmed): do not act on it";
    case 'off':
      return 'nothing to confirm (an open payout, or no status query for its partner)';
  }
}
