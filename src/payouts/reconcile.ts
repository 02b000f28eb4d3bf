import { isFinalState, statusOf, type PayoutEvent, type PayoutState, type SystemEvent } from '../event';
import { createId } from '../ids';
import type { QueriedPayout } from '../skypay/status-query';
import { parseDealTime } from '../skypay/time';
import type { ReconciliationOutcome } from '../store/types';
import type { QueriedMeaning } from './queried-status';

/**
 * What reconciliation does with SkyPay's answer for one payout, decided apart from I/O (unit-tested alone):
 * - a final status skyrelay does not hold while the payout is open (or unknown): `create` the event it missed;
 * - the same final status skyrelay holds: `agrees`;
 * - a different final status, or "still open" for a payout skyrelay holds final: `contradiction` (payout.anomaly);
 * - a final status with no time at all: `unkeyed` (its event could not share a callback's identity);
 * - still open on both sides: `open`; 0, 10, 11 and undocumented codes: `record`.
 */
export type ReconcileDecision =
  | { action: 'create'; payType: 2 | 3 | 4; dealTime: string; detail: string }
  | { action: 'raise'; detail: string }
  | {
      action: 'record';
      outcome: Exclude<ReconciliationOutcome, 'created' | 'duplicate' | 'contradiction'>;
      detail: string;
    };

/** What the meaning says, in words: the CLI's "what it means" column. */
export function describeMeaning(meaning: QueriedMeaning): string {
  switch (meaning.kind) {
    case 'final':
      return meaning.dealTime === undefined
        ? `${meaning.state} (no time given)`
        : `${meaning.state} at ${meaning.dealTime} (${meaning.dealTimeFrom ?? 'time'})`;
    case 'open':
      return `still open: ${meaning.reason}`;
    case 'record':
      return `record only: ${meaning.reason}`;
  }
}

export function decide(held: PayoutState | undefined, meaning: QueriedMeaning): ReconcileDecision {
  const holds = held === undefined ? 'skyrelay never saw it' : `skyrelay holds ${held}`;
  switch (meaning.kind) {
    case 'record':
      return { action: 'record', outcome: 'record', detail: `${meaning.reason}: recorded only; ${holds}` };
    case 'open':
      if (held !== undefined && isFinalState(held)) {
        return { action: 'raise', detail: `SkyPay says still open (${meaning.reason}); ${holds} (final)` };
      }
      return { action: 'record', outcome: 'open', detail: `still open at SkyPay (${meaning.reason}); ${holds}` };
    case 'final':
      if (held !== undefined && isFinalState(held)) {
        if (held === meaning.state) return { action: 'record', outcome: 'agrees', detail: `both say ${held}` };
        return { action: 'raise', detail: `SkyPay says ${meaning.state}; ${holds} (final)` };
      }
      if (meaning.dealTime === undefined) {
        return {
          action: 'record',
          outcome: 'unkeyed',
          detail: `SkyPay says ${meaning.state} but gives no time to key its event by: nothing created; ${holds}`,
        };
      }
      return {
        action: 'create',
        payType: meaning.payType,
        dealTime: meaning.dealTime,
        detail: `SkyPay says ${meaning.state} at ${meaning.dealTime} (${meaning.dealTimeFrom ?? 'time'}); ${holds}`,
      };
  }
}

/**
 * The payout event a callback would have brought: the same identity (partner, controlNumber, payType, dealTime) and
 * the same content a plain callback has (action, no failDescription, no referenceNumber, no extra fields), so the
 * real callback arriving late is answered as a duplicate and not relayed again.
 */
export function buildMissedEvent(
  partner: string,
  controlNumber: string,
  payType: 2 | 3 | 4,
  dealTime: string,
  offsetMinutes: number,
  now: Date,
): PayoutEvent {
  return {
    id: createId('evt'),
    source: 'skypay',
    type: 'payout',
    action: 'payoutQueuePayout',
    partner,
    controlNumber,
    payType,
    status: statusOf(payType),
    dealTime,
    dealTimeUtc: (parseDealTime(dealTime, offsetMinutes) ?? now).toISOString(),
    failDescription: null,
    referenceNumber: null,
    extra: {},
    receivedAt: now.toISOString(),
    duplicates: 0,
    origin: 'reconciliation',
  };
}

/** payout.anomaly for SkyPay's answer contradicting what skyrelay holds: data says what each side says. */
export function buildReconciliationAnomaly(
  partner: string,
  controlNumber: string,
  held: PayoutState,
  queried: QueriedPayout,
  meaning: QueriedMeaning,
  now: Date,
): SystemEvent {
  const skypaySays = describeMeaning(meaning);
  return {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'payout.anomaly',
    receivedAt: now.toISOString(),
    data: {
      reason:
        `Payout ${controlNumber} of ${partner}: skyrelay holds ${held} (final) but SkyPay's status query says ` +
        `${skypaySays} (status ${queried.status} ${queried.statusDesc}). One side is wrong: a forged or mistaken ` +
        'callback, or a SkyPay error. Check the payout with SkyPay before acting on it.',
      kind: 'reconciliation',
      partner,
      controlNumber,
      state: held,
      skyrelaySays: held,
      skypaySays,
      queriedStatus: queried.status,
      queriedStatusDesc: queried.statusDesc,
      transactionDate: queried.transactionDate,
      payTime: queried.payTime,
      cancelTime: queried.cancelTime,
    },
  };
}
