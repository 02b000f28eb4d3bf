import type { PayoutEvent, PayoutHistoryEntry, SystemEvent, Transition } from '../event';
import { createId } from '../ids';
import type { PayoutRecord } from '../store/types';

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
