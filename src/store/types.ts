import type { PayoutEvent, RelayEvent } from '../event';

/** The shapes the store takes and gives (store.ts names them); none of them knows SQL or a driver. */
export interface NewDelivery {
  id: string;
  destination: string;
  rules: string[];
}

/**
 * Asked of saveEvent by the ingesting process's delivery worker: write the
 * event's deliveries already leased to it (in flight, first attempt), so it
 * sends them from memory without a claim. Each destination's maxInFlight
 * still holds across processes (counted in the same transaction); what does
 * not fit is written pending, for claims.
 */
export interface IngestLease {
  owner: string;
  untilMs: number;
  maxInFlight: (destination: string) => number;
}

export interface SaveOutcome {
  eventId: string;
  duplicate: boolean;
  /** Ids of the deliveries written leased to IngestLease.owner (none for a duplicate). */
  leased?: string[];
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
  status?: number | undefined;
  error?: string | undefined;
  response?: string | undefined;
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

/**
 * What operators ask of the store (InspectStore, ReplayStore), shared by the `skyrelay` CLI and the admin
 * API so both filter, page and replay the same way. Listings are newest
 * first by id (ids are time-sortable); a page's last id is the next cursor.
 */

export type DeliveryState = 'pending' | 'inflight' | 'delivered' | 'dead';
export const DELIVERY_STATES: readonly DeliveryState[] = ['pending', 'inflight', 'delivered', 'dead'];

export interface EventFilter {
  controlNumber?: string | undefined;
  /** Payout status name (failure, paid, ...). */
  status?: string | undefined;
  /** payout, rejection, delivery.dead or database.lost. */
  type?: string | undefined;
  sinceMs?: number | undefined;
  /** Only ids older than this one (the previous page's last id). */
  before?: string | undefined;
  limit: number;
}

export interface EventSummary {
  id: string;
  source: string;
  type: string;
  partner: string | null;
  controlNumber: string | null;
  payType: number | null;
  status: string | null;
  dealTime: string | null;
  receivedAt: string;
  duplicates: number;
  deliveries: Record<DeliveryState, number>;
}

export interface RejectionFilter {
  /** A refusal reason (unauthenticated, invalid, malformed, ...). */
  reason?: string | undefined;
  sinceMs?: number | undefined;
  before?: string | undefined;
  limit: number;
}

/** A refused callback as operators see it: never its body, which stays in the table for forensics. */
export interface RejectionView {
  id: string;
  receivedAt: string;
  remoteAddress: string | null;
  method: string;
  path: string;
  /** The HTTP status it was answered with. */
  status: number;
  reason: string;
  /** The partner the body claimed, once known. */
  partner: string | null;
  description: string;
  /** Refusals of the same reason and address in its minute that were only counted, not kept (a flood). */
  suppressed: number;
}

export interface DeliveryFilter {
  state?: DeliveryState | undefined;
  destination?: string | undefined;
  /** Last state change at or after this instant. */
  sinceMs?: number | undefined;
  before?: string | undefined;
  limit: number;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  destination: string;
  rules: string[];
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: string;
  createdAt: string;
  updatedAt: string;
  lastStatus: number | null;
  lastError: string | null;
  controlNumber: string | null;
  eventType: string;
}

export interface AttemptView {
  attempt: number;
  startedAt: string;
  durationMs: number;
  outcome: string;
  status: number | null;
  error: string | null;
  response: string | null;
}

export interface EventDetail {
  event: RelayEvent;
  duplicates: number;
  lastSeenAt: string | null;
  deliveries: (DeliveryView & { attemptLog: AttemptView[] })[];
  /** Later copies with the same identity but different content, oldest first; never delivered. */
  conflicts: ConflictingCopy[];
}

export interface ConflictingCopy {
  id: string;
  receivedAt: string;
  /** How many more times this same content arrived. */
  repeats: number;
  /** The fields that differ from the event (extra fields as `extra.<name>`). */
  differs: string[];
  copy: PayoutEvent;
}

export interface ReplayResult {
  requeued: string[];
  /** Deliveries created because the current rules route the event to a destination it never had. */
  created: string[];
  skipped: { id: string; reason: string }[];
}

export interface ReplayFilter {
  state: 'dead' | 'delivered';
  destination?: string | undefined;
  sinceMs?: number | undefined;
}

export interface PruneCutoffs {
  eventsBeforeMs: number;
  rejectionsBeforeMs: number;
  /** Undefined: callback identities are kept forever. */
  keysBeforeMs?: number;
}

export interface PruneCounts {
  events: number;
  deliveries: number;
  attempts: number;
  rejections: number;
  /** Callback identities (dedup keys) removed. */
  keys: number;
}

/**
 * The rejection-alert rate limit, kept in the store so that cluster workers
 * share it and a restart does not reopen every window: per reason and
 * destination, the first refusal is sent, later ones within windowMs are
 * only counted, and whoever closes the window (any process) sends the count.
 */
export interface Admission {
  destination: string;
  /** Refusals folded into the window that just expired, carried by this alert. */
  folded: number;
}

/** A closed rejection-alert window that folded refusals: what its summary alert says. */
export interface FoldedWindow {
  reason: string;
  folded: number;
  windowMs: number;
  lastStatus: number | null;
  lastPartner: string | null;
  lastRemoteAddress: string | null;
  lastDescription: string | null;
}

/** prom-client's JSON form of a metric family, and one flattened series of it: what metric totals persist. */
export type LabelSet = Record<string, string | number>;

export interface MetricFamily {
  name: string;
  help: string;
  type: string;
  aggregator?: string;
  values: { value: number; labels: LabelSet; metricName?: string }[];
}

export interface Sample {
  /** Stable key: sample name plus sorted labels. */
  series: string;
  family: string;
  type: string;
  help: string;
  /** The exposed name: the family's, or e.g. `<family>_bucket` for a histogram. */
  sample: string;
  labels: LabelSet;
  value: number;
}
