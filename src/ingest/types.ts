import type { SystemEvent, Transition } from '../event';

/** What storing a callback (or refusing one) hands the store and gets back. */
export interface SaveOutcome {
  eventId: string;
  duplicate: boolean;
  /** Ids of the deliveries written leased to IngestLease.owner (none for a duplicate). */
  leased?: string[];
  /** How many copies arrived after the first (0 for a new event, or when the event itself was pruned). */
  duplicates: number;
  /** Set when the copy had the identity of an earlier callback but different content: it was kept, not counted. */
  conflict?: CallbackConflict;
  /** savePayoutEvent of a new event: how it moved its payout, and the events that raised (anomaly, unstuck). */
  transition?: Transition;
  raised?: SystemEvent[];
}

export interface CallbackConflict {
  copyId: string;
  /** The same conflicting content came before: counted on that copy, and alerted then. */
  repeat: boolean;
  /** Fields that differ from the first event; undefined when that event was pruned and only its digest is left. */
  differs: string[] | undefined;
}

export interface NewRejection {
  id: string;
  receivedAt: Date;
  remoteAddress: string | undefined;
  method: string;
  path: string;
  contentType: string | undefined;
  status: number;
  reason: string;
  description: string;
  partner: string | undefined;
  /** Already masked (no secret may reach storage) and cut to its first 2 KB. */
  body: string | undefined;
  /** Sizes before cutting, in bytes. */
  bodyBytes?: number | undefined;
  contentTypeBytes?: number | undefined;
}

/** Rejections counted but not kept, added to the last row kept in their window. */
export interface SuppressedRejections {
  rejectionId: string;
  count: number;
}

/** Why a callback was refused: its HTTP status's short machine name (metrics, the log line, rejection rows). */
export type RejectionReason =
  | 'malformed'
  | 'invalid'
  | 'unauthenticated'
  | 'encryption_required'
  | 'too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'storage_unavailable'
  | 'body_timeout'
  | 'busy';

/** Stored, or already stored: answered 1000. */
export type AcknowledgedOutcome = 'accepted' | 'duplicate' | 'conflict';

/** How a callback was answered, as the metrics and the dashboard count it. */
export type CallbackOutcome = AcknowledgedOutcome | `refused:${RejectionReason | 'internal'}`;

/** How a callback was answered, as the dashboard's chart counts it (a conflicting copy counts as a duplicate). */
export type CallbackTally = 'accepted' | 'duplicate' | 'rejected';

export const CALLBACK_TALLIES: readonly CallbackTally[] = ['accepted', 'duplicate', 'rejected'];

/** Callbacks answered one way in one minute, summed over every process. */
export interface CallbackMinute {
  /** The minute's start, ms epoch. */
  minuteMs: number;
  outcome: CallbackTally;
  count: number;
}
