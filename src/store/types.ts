import type { GroupEvent, PayoutEvent, RelayEvent } from '../event';

/** The shapes the store takes and gives (store.ts names them); none of them knows SQL or a driver. */
export interface NewDelivery {
  id: string;
  destination: string;
  rules: string[];
  /**
   * Set for a destination that groups (its `group` setting): the event joins this group as a member instead of
   * getting a delivery of its own; the group's message carries it.
   */
  groupKey?: string | undefined;
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
  /**
   * For a rate-limited destination (Slack's ratePerSecond), the least time between two sends to it, across all
   * processes: a claim takes its slot, and nothing is claimed for it before the slot (or a pause) ends.
   */
  minIntervalMs?: ((destination: string) => number | undefined) | undefined;
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
  /** Grouped destinations this event went to as a member of a group, and the message that carried it. */
  groups: GroupMembership[];
}

/** An event's place in a group: waiting for its window, or carried by a group message (whose delivery it follows). */
export interface GroupMembership {
  destination: string;
  groupKey: string;
  rules: string[];
  joinedAt: string;
  /** The group message's event, once the window closed. */
  messageEventId: string | null;
  deliveryId: string | null;
  /** `waiting` until the message exists, then its delivery's state (`pruned` once retention removed the message). */
  state: 'waiting' | DeliveryState | 'pruned';
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

/** A group with members that no message carries yet. */
export interface PendingGroup {
  destination: string;
  groupKey: string;
  /** When its oldest waiting member arrived (ms epoch). */
  firstMs: number;
  members: number;
  /** When its last message was created, if ever. */
  lastFlushMs: number | undefined;
}

/** What a group message is built from: the first members in full, and counts of all by payout status. */
export interface GroupContent {
  listed: RelayEvent[];
  total: number;
  counts: Record<string, number>;
  /** Every rule that routed a member here. */
  rules: string[];
  /** Control numbers (or event ids) of the members after the listed ones, in arrival order, at most nameLimit. */
  moreNames: string[];
}

export interface GroupFlush {
  destination: string;
  groupKey: string;
  now: number;
  /** How many members the message lists in full. */
  listLimit: number;
  /** How many of the members after those it names by control number only. */
  nameLimit: number;
  /** Judged again under the group's lock: another process may just have flushed it. */
  isDue: (group: { firstMs: number; lastFlushMs: number | undefined }) => boolean;
  /** The message and its one delivery, from what the group holds now. */
  build: (content: GroupContent) => { event: GroupEvent; delivery: NewDelivery };
}

export interface FlushedGroup {
  messageEventId: string;
  deliveryId: string;
  members: number;
}
