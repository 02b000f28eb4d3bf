import {
  isFinalState,
  statusOf,
  type PayoutConfirmation,
  type PayoutEvent,
  type PayoutState,
  type SystemEvent,
} from '../event';
import { createId } from '../ids';
import type { QueriedPayout } from '../skypay/status-query';
import { describeWindowViolation, parseDealTime, type DealTimeWindow } from '../skypay/time';
import type { ReconciliationOutcome } from './types';
import type { QueriedMeaning } from './queried-status';

/**
 * What reconciliation does with SkyPay's answer for one payout, decided apart from I/O (unit-tested alone):
 * - a time in the answer outside skypay.maxAgeDays / maxFutureMinutes: `out-of-window` (payout.anomaly), and
 *   nothing is created or confirmed from it;
 * - a final status skyrelay does not hold while the payout is open (or unknown): `create` the event it missed;
 * - the same final status skyrelay holds: `confirm` it when a callback brought it and it waits for confirmation,
 *   else `agrees`;
 * - a different final status, or "still open" for a payout skyrelay holds final: `raise` a payout.anomaly, of kind
 *   `unconfirmed` when that final status waits for confirmation, else `reconciliation`;
 * - a final status with no time at all: `unkeyed` (its event could not share a callback's identity);
 * - still open on both sides: `open`; 0, 10, 11 and undocumented codes: `record`.
 */
export type ReconcileDecision =
  | { action: 'create'; payType: 2 | 3 | 4; dealTime: string; detail: string }
  | { action: 'raise'; kind: 'reconciliation' | 'unconfirmed'; detail: string }
  | { action: 'confirm'; detail: string }
  | { action: 'out-of-window'; violation: string; detail: string }
  | {
      action: 'record';
      outcome: Exclude<
        ReconciliationOutcome,
        'created' | 'duplicate' | 'contradiction' | 'confirmed' | 'out-of-window'
      >;
      detail: string;
    };

/** What decide() weighs besides the state skyrelay holds and what SkyPay's status means. */
export interface DecideContext {
  /** The held payout's confirmation (`off` when it is unknown). */
  confirmation?: PayoutConfirmation | undefined;
  /** Why a time in the answer cannot be trusted (checkAnswerTimes), if one cannot. */
  violation?: string | undefined;
}

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

export function decide(
  held: PayoutState | undefined,
  meaning: QueriedMeaning,
  context: DecideContext = {},
): ReconcileDecision {
  const holds = held === undefined ? 'skyrelay never saw it' : `skyrelay holds ${held}`;
  const pending = held !== undefined && isFinalState(held) && context.confirmation === 'pending';
  // A contradiction of a final status that waits for confirmation: the callback that brought it is unconfirmed.
  const kind = pending ? 'unconfirmed' : 'reconciliation';
  const from = pending ? ' from a callback, unconfirmed' : '';
  if (context.violation !== undefined) {
    return {
      action: 'out-of-window',
      violation: context.violation,
      detail: `SkyPay's answer: ${context.violation}; nothing created or confirmed from it; ${holds}`,
    };
  }
  switch (meaning.kind) {
    case 'record':
      return { action: 'record', outcome: 'record', detail: `${meaning.reason}: recorded only; ${holds}` };
    case 'open':
      if (held !== undefined && isFinalState(held)) {
        return { action: 'raise', kind, detail: `SkyPay says still open (${meaning.reason}); ${holds} (final${from})` };
      }
      return { action: 'record', outcome: 'open', detail: `still open at SkyPay (${meaning.reason}); ${holds}` };
    case 'final':
      if (held !== undefined && isFinalState(held)) {
        if (held === meaning.state) {
          if (pending) return { action: 'confirm', detail: `both say ${held}: the callback's ${held} is confirmed` };
          return { action: 'record', outcome: 'agrees', detail: `both say ${held}` };
        }
        return { action: 'raise', kind, detail: `SkyPay says ${meaning.state}; ${holds} (final${from})` };
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

/** The times a 7.1 answer carries for a payout, by name. */
const ANSWER_TIMES = ['transactionDate', 'payTime', 'cancelTime'] as const;

/**
 * Why the times in SkyPay's answer cannot be trusted, or undefined when they can: a time that is no real calendar
 * time, a time more than skypay.maxFutureMinutes ahead (nothing SkyPay reports has happened in the future), or the
 * time a status would be dated by (the event created, the status confirmed) more than skypay.maxAgeDays old: the
 * window a callback's dealTime must be in. Other times may be old: a payout can stay open for long. Pure.
 */
export function checkAnswerTimes(
  queried: QueriedPayout,
  meaning: QueriedMeaning,
  now: Date,
  window: DealTimeWindow,
  offsetMinutes: number,
): string | undefined {
  for (const name of ANSWER_TIMES) {
    const text = queried[name];
    if (text === '') continue;
    const at = parseDealTime(text, offsetMinutes);
    if (at === undefined) return `${name} ${text} is not a real time`;
    const dated = meaning.kind === 'final' && meaning.dealTimeFrom === name;
    const violation = describeWindowViolation(at, now, dated ? window : { maxFutureMinutes: window.maxFutureMinutes });
    if (violation !== undefined) return `${name} ${text} ${violation}`;
  }
  return undefined;
}

/** What every reconciliation event says of SkyPay's answer, as data fields. */
function answerData(queried: QueriedPayout, meaning: QueriedMeaning): Record<string, string | number> {
  return {
    skypaySays: describeMeaning(meaning),
    queriedStatus: queried.status,
    queriedStatusDesc: queried.statusDesc,
    transactionDate: queried.transactionDate,
    payTime: queried.payTime,
    cancelTime: queried.cancelTime,
  };
}

/** The held payout a confirmation is about: its final state and the status event that made it final, if still kept. */
export interface ConfirmedStatus {
  partner: string;
  controlNumber: string;
  state: PayoutState;
  event: PayoutEvent | undefined;
}

/**
 * payout.confirmed: SkyPay's status query says the final status a callback brought. What a consumer that waits for
 * confirmation acts on: `eventId` names the status event it confirms. The reason names no payout (partner and control
 * number are data fields a destination can mask).
 */
export function buildConfirmedEvent(
  status: ConfirmedStatus,
  queried: QueriedPayout,
  meaning: QueriedMeaning,
  now: Date,
): SystemEvent {
  const answer = answerData(queried, meaning);
  return {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'payout.confirmed',
    receivedAt: now.toISOString(),
    data: {
      reason:
        `SkyPay's status query confirms the ${status.state} status a callback brought: it says ${answer['skypaySays']} ` +
        `(status ${queried.status} ${queried.statusDesc}). It can be acted on.`,
      partner: status.partner,
      controlNumber: status.controlNumber,
      state: status.state,
      confirmation: 'confirmed',
      eventId: status.event?.id ?? null,
      dealTime: status.event?.dealTime ?? null,
      ...answer,
    },
  };
}

/**
 * payout.anomaly of kind `unconfirmed`: SkyPay's status query contradicts the final status a callback brought, which
 * waited for confirmation. Data says what each side says; the reason names no payout.
 */
export function buildUnconfirmedAnomaly(
  status: ConfirmedStatus,
  queried: QueriedPayout,
  meaning: QueriedMeaning,
  now: Date,
): SystemEvent {
  const answer = answerData(queried, meaning);
  return {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'payout.anomaly',
    receivedAt: now.toISOString(),
    data: {
      reason:
        `A callback said this payout is ${status.state}, but SkyPay's status query says ${answer['skypaySays']} ` +
        `(status ${queried.status} ${queried.statusDesc}). The callback is unconfirmed: a forgery (AES-ECB blocks of ` +
        'captured callbacks can be spliced into a valid-looking one) or a SkyPay error. Do not act on the ' +
        `${status.state} status; check the payout with SkyPay.`,
      kind: 'unconfirmed',
      partner: status.partner,
      controlNumber: status.controlNumber,
      state: status.state,
      confirmation: 'contradicted',
      skyrelaySays: status.state,
      eventId: status.event?.id ?? null,
      dealTime: status.event?.dealTime ?? null,
      ...answer,
    },
  };
}

/**
 * payout.anomaly of kind `out-of-window`: SkyPay's answer carries a time skyrelay refuses (checkAnswerTimes), so
 * nothing was made of it. Raised once per answer: the same answer asked again is counted on its timeline row.
 */
export function buildOutOfWindowAnomaly(
  partner: string,
  controlNumber: string,
  held: PayoutState | undefined,
  violation: string,
  queried: QueriedPayout,
  meaning: QueriedMeaning,
  now: Date,
): SystemEvent {
  return {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'payout.anomaly',
    receivedAt: now.toISOString(),
    data: {
      reason:
        `SkyPay's status query answered for a payout with a time skyrelay does not accept: ${violation}. Nothing ` +
        'was created or confirmed from this answer (a time SkyPay reports cannot lie ahead, nor be older than a ' +
        'callback may be). A SkyPay error: check the payout with SkyPay.',
      kind: 'out-of-window',
      partner,
      controlNumber,
      state: held ?? null,
      skyrelaySays: held ?? null,
      violation,
      ...answerData(queried, meaning),
    },
  };
}
