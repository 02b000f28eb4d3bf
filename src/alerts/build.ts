import type { AttemptReport } from '../delivery/types';
import type { CallbackEvent, SystemEvent } from '../event';
import { createId } from '../ids';
import { scrubSenderText } from '../skypay/scrub';
import type { CallbackConflict, NewRejection } from '../ingest/types';
import type { FoldedWindow } from './types';

/**
 * The shapes of skyrelay's events about itself. Data is flat and carries no
 * secret: a rejected body is never copied in, and free text is masked again
 * with every configured secret in case a message quoted one.
 */
export function buildRejectionEvent(rejection: NewRejection, secrets: readonly string[]): SystemEvent {
  return {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'rejection',
    receivedAt: rejection.receivedAt.toISOString(),
    data: {
      reason: rejection.reason,
      status: rejection.status,
      partner: rejection.partner ?? null,
      remoteAddress: rejection.remoteAddress ?? null,
      description: scrubSenderText(rejection.description, secrets),
      method: rejection.method,
      path: rejection.path,
      rejectionId: rejection.id,
    },
  };
}

/** Sent when a rate-limit window closes with rejections folded into it: how many, and the last one's facts. */
export function buildFoldedSummaryEvent(w: FoldedWindow, now: Date): SystemEvent {
  const seconds = Math.round(w.windowMs / 1000);
  return {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'rejection',
    receivedAt: now.toISOString(),
    data: {
      reason: w.reason,
      status: w.lastStatus,
      partner: w.lastPartner,
      remoteAddress: w.lastRemoteAddress,
      description: `${w.folded} more callback${w.folded === 1 ? '' : 's'} refused (${w.reason}) in the last ${seconds} s; last: ${w.lastDescription ?? 'unknown'}`,
      folded: w.folded,
      summary: true,
    },
  };
}

/**
 * A dead delivery, told to whoever the rules choose (for example email when Slack itself is broken). It names the
 * payout (or notification) by its fields, not only in the error text: the receiver's error may quote any of them,
 * and a destination's masking finds what to hide there by these values.
 */
export function buildDeadDeliveryEvent(report: AttemptReport, now: Date, waiting?: number): SystemEvent {
  const { delivery, attempt } = report;
  const original = delivery.event;
  const payout = original.source === 'skypay' && original.type === 'payout' ? original : undefined;
  const finance = original.source === 'skypay' && original.type === 'finance' ? original : undefined;
  return {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'delivery.dead',
    receivedAt: now.toISOString(),
    data: {
      destination: delivery.destination,
      deliveryId: delivery.id,
      eventId: delivery.eventId,
      eventType: `${original.source}.${original.type}`,
      attempts: delivery.attempt,
      lastError: report.deadReason ?? attempt.error ?? null,
      lastStatus: attempt.status ?? null,
      controlNumber: payout?.controlNumber ?? null,
      payoutStatus: payout?.status ?? null,
      partner: original.source === 'skypay' ? original.partner : null,
      dealTime: payout?.dealTime ?? null,
      referenceNumber: payout?.referenceNumber ?? finance?.referenceNumber ?? null,
      ...(finance ? { accountNo: finance.accountNo, transactionDate: finance.transactionDate } : {}),
      rules: delivery.rules.join(', '),
      ...describeOrderedDeath(report, waiting),
    },
  };
}

/**
 * At an ordered destination, what the death does to the payout's later events there: they go on (`continue`), or
 * wait behind it (`hold`: how many wait now, and how to let them go).
 */
function describeOrderedDeath(report: AttemptReport, waiting: number | undefined): Record<string, string | number> {
  const onDead = report.orderedOnDead;
  if (onDead === undefined) return {};
  const { id, destination } = report.delivery;
  if (onDead === 'continue') {
    return { orderedOnDead: onDead, ordering: `this payout's later events to ${destination} go on without it` };
  }
  const count =
    waiting === undefined
      ? "this payout's later events"
      : `${waiting} later event${waiting === 1 ? '' : 's'} of this payout`;
  return {
    orderedOnDead: onDead,
    ...(waiting === undefined ? {} : { waitingBehind: waiting }),
    ordering:
      `${count} to ${destination} wait behind it (and any that arrive): replay it (skyrelay replay ${id}) to send ` +
      `it again in its place, or release it (skyrelay release ${id}) to let them go on without it`,
  };
}

/**
 * A callback repeated an accepted identity with different content: kept as a
 * copy, never relayed. Field names only; the values are the sender's text.
 */
export function buildConflictEvent(
  copy: CallbackEvent,
  eventId: string,
  conflict: CallbackConflict,
  now: Date,
): SystemEvent {
  return {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'callback.conflict',
    receivedAt: now.toISOString(),
    data: {
      eventId,
      copyId: conflict.copyId,
      partner: copy.partner,
      ...(copy.type === 'finance'
        ? {
            callback: 'financeNotification',
            referenceNumber: copy.referenceNumber,
            accountNo: copy.accountNo,
            statementType: copy.statementType,
            transactionDate: copy.transactionDate,
          }
        : {
            controlNumber: copy.controlNumber,
            payType: copy.payType,
            payoutStatus: copy.status,
            dealTime: copy.dealTime,
          }),
      differs: conflict.differs?.join(', ') ?? 'unknown (the first event was pruned; only its identity is kept)',
    },
  };
}

/** The database file was removed or replaced: callbacks are rejected until skyrelay restarts on a real file. */
export function buildDatabaseLostEvent(reason: string, file: string, now: Date): SystemEvent {
  return {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'database.lost',
    receivedAt: now.toISOString(),
    data: {
      reason,
      path: file,
      pid: process.pid,
      action: 'callbacks are answered 503 until skyrelay is restarted on a real file',
    },
  };
}

/** A delivery.dead alert that itself dies raises nothing: no alert loops. */
export function carriesDeadAlert(report: AttemptReport): boolean {
  return report.delivery.event.source === 'skyrelay' && report.delivery.event.type === 'delivery.dead';
}
