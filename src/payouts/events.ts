import type { PayoutEvent, PayoutHistoryEntry, SystemEvent, Transition } from '../event';
import { createId } from '../ids';
import type { PayoutRecord } from './types';

/**
 * skyrelay's events about payouts. Data is flat (plus the anomaly's history) and holds only what SkyPay sent about
 * the payout: no secret ever reaches it. Every value a reason names is also a field of the data under its own name
 * (controlNumber, partner, dealTime): a destination that masks or omits a field finds it in the prose by that
 * value (src/destinations/masking.ts), so a new kind of event is masked without being listed anywhere.
 */

/** What every reader of a payout.anomaly must be told, in plain words. */
export function describeAnomaly(event: PayoutEvent, transition: Transition): string {
  const was = transition.from ?? 'unknown';
  const what =
    transition.kind === 'conflict'
      ? `was already ${was} (final) and then got a different final status, ${event.status}`
      : `was already ${was} (final) and then got another status, ${event.status}`;
  return (
    `Payout ${event.controlNumber} of ${event.partner} ${what} (dealTime ${event.dealTime}). ` +
    'A final payout must not change: this is either a SkyPay error or a forged callback (AES-ECB blocks of two ' +
    'captured callbacks can be spliced into a valid-looking one). Check the payout with SkyPay before acting on it.'
  );
}

export function buildAnomalyEvent(
  event: PayoutEvent,
  transition: Transition,
  history: PayoutHistoryEntry[],
  now: Date,
): SystemEvent {
  return {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'payout.anomaly',
    receivedAt: now.toISOString(),
    data: {
      reason: describeAnomaly(event, transition),
      kind: transition.kind,
      partner: event.partner,
      controlNumber: event.controlNumber,
      state: transition.to,
      payoutStatus: event.status,
      payType: event.payType,
      dealTime: event.dealTime,
      eventId: event.id,
      history,
    },
  };
}

/**
 * payout.anomaly of kind `same-time`: a status with exactly the dealTime of a status the payout already had. The
 * reason names no payout (partner and control number are data fields a destination masks), and says plainly what
 * it may be and what to do.
 */
export function buildSameTimeAnomaly(
  event: PayoutEvent,
  transition: Transition,
  previous: PayoutHistoryEntry | undefined,
  after: PayoutRecord,
  history: PayoutHistoryEntry[],
  now: Date,
): SystemEvent {
  const earlier = previous ? `its earlier ${previous.status} status` : 'its newest earlier status';
  const wait =
    after.confirmation === 'pending'
      ? "Do not act on it before SkyPay's status query confirms it (payout.confirmed, confirmation confirmed) or " +
        'someone has checked it with SkyPay.'
      : 'Check it with SkyPay before acting on it (skypay.statusQuery would confirm final statuses automatically).';
  return {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'payout.anomaly',
    receivedAt: now.toISOString(),
    data: {
      reason:
        `A payout got a ${event.status} status with exactly the dealTime of ${earlier} (${event.dealTime}). A real ` +
        'payout does not move in 0 seconds often: this may be a spliced forgery (AES-ECB lets the payType block of ' +
        "a captured callback be swapped for another callback's, keeping the captured time). " +
        wait,
      kind: 'same-time',
      partner: event.partner,
      controlNumber: event.controlNumber,
      state: after.state,
      confirmation: after.confirmation,
      payoutStatus: event.status,
      payType: event.payType,
      dealTime: event.dealTime,
      transition: transition.kind,
      eventId: event.id,
      previousStatus: previous?.status ?? null,
      previousEventId: previous?.eventId ?? null,
      history,
    },
  };
}

export function buildStuckEvent(payout: PayoutRecord, now: Date): SystemEvent {
  const ageMs = now.getTime() - payout.stateSinceMs;
  return {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'payout.stuck',
    receivedAt: now.toISOString(),
    data: {
      reason: `Payout ${payout.controlNumber} of ${payout.partner} has been ${payout.state} for ${describeAge(ageMs)} with no final status`,
      partner: payout.partner,
      controlNumber: payout.controlNumber,
      state: payout.state,
      since: new Date(payout.stateSinceMs).toISOString(),
      age: describeAge(ageMs),
      ageMs,
    },
  };
}

export function buildUnstuckEvent(
  event: PayoutEvent,
  before: PayoutRecord,
  after: PayoutRecord,
  now: Date,
): SystemEvent {
  return {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'payout.unstuck',
    receivedAt: now.toISOString(),
    data: {
      reason: `Payout ${event.controlNumber} of ${event.partner}, reported stuck ${before.stuckState ?? before.state}, is now ${after.state}`,
      partner: event.partner,
      controlNumber: event.controlNumber,
      state: after.state,
      stuckState: before.stuckState,
      since: new Date(before.stateSinceMs).toISOString(),
      eventId: event.id,
      dealTime: event.dealTime,
    },
  };
}

/** `6h 5m`, `42m`, `17s`: an age people read at a glance. */
export function describeAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}
