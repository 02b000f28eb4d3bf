import type { PayoutConfirmation, PayoutEvent, PayoutHistoryEntry, SystemEvent } from '../event';
import { createId } from '../ids';
import type { Plan } from '../routing/plan';
import type { PayoutPolicy, PayoutRecord } from './types';
import { buildAnomalyEvent, buildSameTimeAnomaly, buildUnstuckEvent } from './events';
import { confirmationAfter, findSameTime, isAnomaly, isFinal, judge } from './lifecycle';

export interface PayoutPolicyOptions {
  /**
   * skypay.statusQuery.partner when the status query is configured: a final status a callback brings for one of its
   * payouts waits for SkyPay's status query to confirm it (`confirmation: "pending"`). The query asks with that
   * partner's credentials, so another partner's payouts (or any, with no query) have nothing to confirm them: `off`.
   */
  statusQueryPartner?: string | undefined;
}

/**
 * What the store runs inside a payout event's transaction: the state machine, the payout's new row, what it raises,
 * and the rules' plan (after judging, so a rule can match `transition.kind`). Pure apart from ids and the clock.
 */
export function createPayoutPolicy(
  plan: Plan,
  now: () => Date = () => new Date(),
  options: PayoutPolicyOptions = {},
): PayoutPolicy {
  return {
    // The history is read for what raises an anomaly (it goes into the alert) and for a status at or before the
    // payout's newest dealTime, whose time another status may share (same-time). Most callbacks need none.
    needsHistory(before, event) {
      if (!before) return false;
      const t = judge(before, event.payType, event.dealTime);
      return isAnomaly(t) || t.kind === 'late' || event.dealTime === before.lastDealTime;
    },
    judge(before, event, history) {
      const transition = judge(before, event.payType, event.dealTime);
      const anomalies = (isAnomaly(transition) ? 1 : 0) + (sameTimeOf(before, event, history) ? 1 : 0);
      const origin = event.origin ?? 'callback';
      const confirms = options.statusQueryPartner !== undefined && event.partner === options.statusQueryPartner;
      const confirmation = confirmationAfter(before?.confirmation, transition, origin, confirms);
      return { transition, after: advance(before, event, transition.to, anomalies, confirmation) };
    },
    raise({ event, transition, before, after, history }) {
      const at = now();
      const raised: SystemEvent[] = [];
      if (isAnomaly(transition)) raised.push(buildAnomalyEvent(event, transition, history, at));
      const same = sameTimeOf(before, event, history);
      if (same) raised.push(buildSameTimeAnomaly(event, transition, same.status, after, history, at));
      if (before?.stuckState != null && !isFinal(before.state) && isFinal(after.state)) {
        raised.push(buildUnstuckEvent(event, before, after, at));
      }
      return raised;
    },
    plan,
  };
}

/**
 * A status that shares its dealTime with one the payout already had (see findSameTime). A status SkyPay's query
 * reported is no callback, so no splice: its time is SkyPay's own. `history` may end with the status itself.
 */
function sameTimeOf(
  before: PayoutRecord | undefined,
  event: PayoutEvent,
  history: readonly PayoutHistoryEntry[],
): { status: PayoutHistoryEntry | undefined } | undefined {
  if (event.origin === 'reconciliation') return undefined;
  return findSameTime(
    before,
    event.dealTime,
    history.filter((e) => e.eventId !== event.id),
  );
}

/** The payout row after `event`: first and last seen, newest dealTime, and when it entered its state. */
export function advance(
  before: PayoutRecord | undefined,
  event: PayoutEvent,
  state: PayoutRecord['state'],
  anomalies: number,
  confirmation: PayoutConfirmation,
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
      anomalies,
      confirmation,
    };
  }
  return {
    ...before,
    state,
    lastSeenMs: Math.max(before.lastSeenMs, receivedMs),
    lastDealTime: event.dealTime > before.lastDealTime ? event.dealTime : before.lastDealTime,
    stateSinceMs: state === before.state ? before.stateSinceMs : receivedMs,
    anomalies: before.anomalies + anomalies,
    confirmation,
  };
}
