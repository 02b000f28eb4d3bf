import type { PayoutEvent } from '../event';
import { createId } from '../ids';
import type { Plan } from '../routing/plan';
import type { PayoutPolicy, PayoutRecord } from '../store/types';
import { buildAnomalyEvent, buildUnstuckEvent } from './events';
import { isAnomaly, isFinal, judge } from './lifecycle';

/**
 * What the store runs inside a payout event's transaction: the state machine, the payout's new row, what it raises,
 * and the rules' plan (after judging, so a rule can match `transition.kind`). Pure apart from ids and the clock.
 */
export function createPayoutPolicy(plan: Plan, now: () => Date = () => new Date()): PayoutPolicy {
  return {
    judge(before, event) {
      const transition = judge(before, event.payType, event.dealTime);
      return { transition, after: advance(before, event, transition.to, isAnomaly(transition)) };
    },
    needsHistory: (transition) => isAnomaly(transition),
    raise({ event, transition, before, after, history }) {
      if (isAnomaly(transition)) return [buildAnomalyEvent(event, transition, history, now())];
      if (before?.stuckState != null && !isFinal(before.state) && isFinal(after.state)) {
        return [buildUnstuckEvent(event, before, after, now())];
      }
      return [];
    },
    plan,
  };
}

/** The payout row after `event`: first and last seen, newest dealTime, and when it entered its state. */
export function advance(
  before: PayoutRecord | undefined,
  event: PayoutEvent,
  state: PayoutRecord['state'],
  anomaly: boolean,
): PayoutRecord {
  const receivedMs = Date.parse(event.receivedAt);
  if (!before) {
    return {
      id: createId('pay'),
      partner: event.partner,
      controlNumber: event.controlNumber,
      state,
      firstSeenMs: receivedMs,
      lastSeenMs: receivedMs,
      lastDealTime: event.dealTime,
      stateSinceMs: receivedMs,
      stuckState: null,
      anomalies: 0,
    };
  }
  return {
    ...before,
    state,
    lastSeenMs: Math.max(before.lastSeenMs, receivedMs),
    lastDealTime: event.dealTime > before.lastDealTime ? event.dealTime : before.lastDealTime,
    stateSinceMs: state === before.state ? before.stateSinceMs : receivedMs,
    anomalies: before.anomalies + (anomaly ? 1 : 0),
  };
}
