import type { Config } from '../config/schema';
import { showDuration } from '../duration';
import { PAYOUT_STATES, isFinalState, type PayoutState } from '../event';
import type { StuckCutoff } from './types';

/**
 * How long a payout may stay in each open state before it is stuck, per partner where one is configured. Decisions
 * only: the watcher turns the waits into cutoffs (stuckCutoffs) and the store marks the payouts past them.
 */

export type OpenState = Exclude<PayoutState, 'paid' | 'cancelled' | 'failed'>;
export const OPEN_STATES = PAYOUT_STATES.filter((s): s is OpenState => !isFinalState(s));

/** A wait per open state, in ms; 0: never stuck in that state. */
export type StateWaits = Readonly<Record<OpenState, number>>;

export interface StuckWaits {
  /** Every partner not in byPartner. */
  readonly all: StateWaits;
  /** The partners of payouts.stuckAfterByPartner, each with all its states resolved. */
  readonly byPartner: Readonly<Record<string, StateWaits>>;
}

const HOUR = 3_600_000;

/**
 * The waits when payouts.stuckAfterMs and stuckAfter leave a state unset. Remittance stores (ML, Cebuana) send an
 * upload and then wait for the beneficiary to collect the cash: days are normal, while online channels (banks,
 * e-wallets) are documented to send one result (paid or failure) and no upload. So an uploaded payout is most
 * often one waiting at a counter: 72 h lets a weekend and a working day pass. An amendment success (ML, Cebuana)
 * leaves the payout waiting for pick-up again: the same 72 h. An amendment failure leaves it under the details
 * that needed amending, which may be why it is not collected: 24 h, so someone looks the next day. A partner whose
 * uploads are online payouts sets a few hours in payouts.stuckAfterByPartner.
 */
export const DEFAULT_STUCK_AFTER: StateWaits = {
  uploaded: 72 * HOUR,
  amendedSuccess: 72 * HOUR,
  amendedFailure: 24 * HOUR,
};

/**
 * Each state's wait, most specific first: the partner's wait for the state, the partner's one wait, stuckAfter's
 * wait for the state, stuckAfterMs (the wait of every state, where set), the built-in wait.
 */
export function resolveStuckWaits(payouts: Config['payouts']): StuckWaits {
  const all = waitsOver(payouts.stuckAfter, (state) => payouts.stuckAfterMs ?? DEFAULT_STUCK_AFTER[state]);
  const byPartner: Record<string, StateWaits> = {};
  for (const [partner, waits] of Object.entries(payouts.stuckAfterByPartner)) {
    byPartner[partner] = typeof waits === 'number' ? waitsOver({}, () => waits) : waitsOver(waits, (s) => all[s]);
  }
  return { all, byPartner };
}

function waitsOver(
  set: Partial<Record<OpenState, number | undefined>>,
  below: (state: OpenState) => number,
): StateWaits {
  return {
    uploaded: set.uploaded ?? below('uploaded'),
    amendedSuccess: set.amendedSuccess ?? below('amendedSuccess'),
    amendedFailure: set.amendedFailure ?? below('amendedFailure'),
  };
}

/** The wait of one partner's payouts in one state. */
export function stuckAfterOf(waits: StuckWaits, partner: string, state: OpenState): number {
  return (Object.hasOwn(waits.byPartner, partner) ? waits.byPartner[partner] : undefined)?.[state] ?? waits.all[state];
}

/** Whether any payout can ever be stuck: with every wait 0 the check does not run. */
export function isStuckCheckOn(waits: StuckWaits): boolean {
  return [waits.all, ...Object.values(waits.byPartner)].some((w) => OPEN_STATES.some((s) => w[s] > 0));
}

/**
 * The cutoffs of a check at `nowMs`, one per state with a wait (a partner whose wait for a state differs from the
 * rest gets a cutoff of its own, and is left out of the general one).
 */
export function stuckCutoffs(waits: StuckWaits, nowMs: number): StuckCutoff[] {
  const cutoffs: StuckCutoff[] = [];
  for (const state of OPEN_STATES) {
    const own = Object.entries(waits.byPartner).filter(([, w]) => w[state] !== waits.all[state]);
    if (waits.all[state] > 0) {
      const except = own.map(([partner]) => partner);
      cutoffs.push({
        state,
        stateSinceBeforeMs: nowMs - waits.all[state],
        ...(except.length > 0 ? { exceptPartners: except } : {}),
      });
    }
    for (const [partner, w] of own) {
      if (w[state] > 0) cutoffs.push({ state, stateSinceBeforeMs: nowMs - w[state], partner });
    }
  }
  return cutoffs;
}

/** The waits as one line for people: `uploaded 72 h, amendedSuccess 72 h, amendedFailure 24 h; Acme@skypay: …`. */
export function describeStuckWaits(waits: StuckWaits): string {
  const line = (w: StateWaits): string =>
    OPEN_STATES.map((s) => `${s} ${w[s] > 0 ? showDuration(w[s]) : 'never'}`).join(', ');
  return [line(waits.all), ...Object.entries(waits.byPartner).map(([p, w]) => `${p}: ${line(w)}`)].join('; ');
}
