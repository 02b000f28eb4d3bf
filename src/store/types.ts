import type { RelayEvent } from '../event';

/**
 * The narrow interface the daemon needs from storage. Everything is async so
 * that a server database (PostgreSQL, for multi-host deployments) can stand
 * behind the same contract as the embedded SQLite file.
 */
export interface NewDelivery {
  id: string;
  destination: string;
  rules: string[];
}

export interface SaveOutcome {
  eventId: string;
  duplicate: boolean;
  /** How many copies arrived after the first (0 for a new event, or when the event itself was pruned). */
  duplicates: number;
  /** Set when the copy had the identity of an earlier callback but different content: it was kept, not counted. */
  conflict?: CallbackConflict;
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

/** Refusals counted but not kept, added to the last row kept in their window. */
export interface SuppressedRejections {
  rejectionId: string;
  count: number;
}

export interface IngestStore {
  /**
   * Stores an event with its deliveries in one transaction, unless a callback
   * with the same identity was ever accepted: then counts the duplicate (or
   * keeps the copy, when its content differs) and writes no deliveries.
   * Resolves only after the commit.
   */
  saveEvent(event: RelayEvent, deliveries: NewDelivery[]): Promise<SaveOutcome>;
  saveRejection(rejection: NewRejection): Promise<void>;
  /** Adds counts of refusals not kept to the `suppressed` column of rows that were. */
  addSuppressed(counts: SuppressedRejections[]): Promise<void>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A delivery the worker has leased: only its lease owner finishes it. */
export interface ClaimedDelivery {
  id: string;
  eventId: string;
  destination: string;
  rules: string[];
  /** This attempt's number, 1 for the first. */
  attempt: number;
  event: RelayEvent;
}

export interface AttemptRecord {
  startedAt: number;
  durationMs: number;
  outcome: 'delivered' | 'retry' | 'dead';
  status?: number;
  error?: string;
  response?: string;
}

export type DeliveryNext = { state: 'delivered' } | { state: 'pending'; nextAttemptMs: number } | { state: 'dead' };

export interface ClaimOptions {
  owner: string;
  now: number;
  /** How long a claim is ours; an expired lease (a crashed process) is claimed again. */
  leaseMs: number;
  /** At most this many deliveries in flight per destination, across all processes. */
  maxInFlight: (destination: string) => number;
  max: number;
}

export interface OutboxStore {
  claimDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]>;
  /** Records the attempt and moves the delivery on, if the lease is still ours. */
  finishAttempt(delivery: ClaimedDelivery, owner: string, attempt: AttemptRecord, next: DeliveryNext): Promise<void>;
  /** When the next pending delivery falls due or a lease expires (ms epoch), if ever. */
  nextWakeAt(): Promise<number | undefined>;
}
