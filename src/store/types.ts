import type {
  CallbackEvent,
  GroupEvent,
  PayoutConfirmation,
  PayoutEvent,
  PayoutHistoryEntry,
  PayoutState,
  RelayEvent,
  SystemEvent,
  Transition,
} from '../event';

/** The shapes the store takes and gives (store.ts names them); none of them knows SQL or a driver. */
export interface NewDelivery {
  id: string;
  destination: string;
  rules: string[];
  /**
   * Set when an active silence holds this route back: no delivery is written, and the event records which silence
   * did it (EventDetail.silenced), so nothing looks lost.
   */
  silencedBy?: string | undefined;
  /**
   * Set for a destination that groups (its `group` setting): the event joins this group as a member instead of
   * getting a delivery of its own; the group's message carries it.
   */
  groupKey?: string | undefined;
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
  /** The partner (SkyPay userName) the callback came from. */
  partner?: string | undefined;
  sinceMs?: number | undefined;
  /** Received before this instant (ms epoch): with sinceMs, a time range. */
  untilMs?: number | undefined;
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
  /** A rejection reason (unauthenticated, invalid, malformed, ...). */
  reason?: string | undefined;
  sinceMs?: number | undefined;
  before?: string | undefined;
  limit: number;
}

/** A refused callback as operators list it: never its body, which only getRejection shows (forensics). */
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
  /** Rejections of the same reason and address in its minute that were only counted, not kept (a flood). */
  suppressed: number;
}

/** One refused callback for forensics: what was kept of it, masked and cut, and how large it was before cutting. */
export interface RejectionDetail extends RejectionView {
  /** The Content-Type header as kept (its first 256 bytes). */
  contentType: string | null;
  /** The header's length in bytes before cutting; null when there was none (or the row predates the column). */
  contentTypeBytes: number | null;
  /** The body with secrets masked, its first 2 KB; null when there was none. */
  body: string | null;
  /** The body's size in bytes before cutting. */
  bodyBytes: number | null;
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
  /** Destinations the rules chose but an active silence held back, by destination name. */
  silenced: SilencedRoute[];
}

/** A destination an event did not go to because a silence was active when it was stored. */
export interface SilencedRoute {
  destination: string;
  silenceId: string;
  rules: string[];
}

/**
 * A silence: while active (startsAt <= now < endsAt, not expired), events its matchers match create no deliveries
 * to the destinations it covers. `matchers` has a rule's `match` syntax, validated before it reaches the store.
 */
export interface NewSilence {
  id: string;
  matchers: Record<string, unknown>;
  /** Null: every Slack and email destination. Else exactly these destinations (webhooks only when named). */
  destinations: string[] | null;
  startsAtMs: number;
  endsAtMs: number;
  createdBy: string;
  createdAtMs: number;
  comment: string;
  /** How its maker was authenticated ("admin token 3f9a2c1b", "dashboard session …", "cli as OS user …"). */
  createdVia: string;
  /** The address the request came from; null from the CLI. */
  createdFrom: string | null;
}

/** How whoever ends a silence was authenticated, and from where, as NewSilence's createdVia and createdFrom. */
export interface SilenceAudit {
  via: string;
  from: string | null;
}

export interface SilenceView {
  id: string;
  matchers: Record<string, unknown>;
  destinations: string[] | null;
  startsAt: string;
  endsAt: string;
  createdBy: string;
  createdAt: string;
  comment: string;
  /** Set when someone ended it before endsAt (DELETE /admin/silences/:id, `skyrelay silence expire`). */
  expiredBy: string | null;
  expiredAt: string | null;
  /** As NewSilence's; null on silences made before they were recorded. */
  createdVia: string | null;
  createdFrom: string | null;
  expiredVia: string | null;
  expiredFrom: string | null;
}

export interface SilenceFilter {
  /** Only ids older than this one (the previous page's last id). */
  before?: string | undefined;
  limit: number;
}

/**
 * The identity of an accepted callback (partner, control number, payType, dealTime): what dedup compares. It
 * outlives its event (store.dedupRetentionDays), so a callback answered as a duplicate of a pruned event has one.
 */
export interface CallbackIdentity {
  partner: string;
  controlNumber: string;
  payType: number;
  dealTime: string;
  /** The event first accepted with it (possibly pruned since). */
  eventId: string;
  receivedAt: string;
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
  copy: CallbackEvent;
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
 * destination, the first rejection is sent, later ones within windowMs are
 * only counted, and whoever closes the window (any process) sends the count.
 */
export interface Admission {
  destination: string;
  /** Rejections folded into the window that just expired, carried by this alert. */
  folded: number;
}

/** A closed rejection-alert window that folded rejections: what its summary alert says. */
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

/** A payout as the store keeps it: one row per (partner, controlNumber), updated in its events' transactions. */
export interface PayoutRecord {
  /** Time-sortable (pay_...), given at first sight: what listings page by. */
  id: string;
  partner: string;
  controlNumber: string;
  state: PayoutState;
  firstSeenMs: number;
  lastSeenMs: number;
  /** The newest dealTime among its statuses, as SkyPay sent it. */
  lastDealTime: string;
  /** When it entered its state (received time): what "stuck" measures. */
  stateSinceMs: number;
  /** The state a payout.stuck was raised for (at most once per state); null when never. */
  stuckState: PayoutState | null;
  /** How many payout.anomaly events were raised about it (after-final, conflict, same-time, unconfirmed). */
  anomalies: number;
  /** Whether SkyPay's status query confirmed its final status (see PayoutConfirmation). */
  confirmation: PayoutConfirmation;
}

/**
 * What the store asks of the payout lifecycle while it stores a payout event (src/payouts/policy.ts): handed in,
 * since the state machine and the rules live above the store. Every call is synchronous and pure, made inside the
 * event's transaction.
 */
export interface PayoutPolicy {
  /**
   * Whether judging `event` needs the payout's history (its statuses so far, read only then: most callbacks need
   * none). Asked before judge(); never for a payout not seen before.
   */
  needsHistory(before: PayoutRecord | undefined, event: PayoutEvent): boolean;
  /**
   * The event's transition and the payout after it (its state, anomaly count and confirmation); `before` is
   * undefined for a payout never seen; `history` is the payout's statuses so far when needsHistory() said so, else
   * empty. The store then sets `event.transition` and `event.confirmation` (after.confirmation).
   */
  judge(
    before: PayoutRecord | undefined,
    event: PayoutEvent,
    history: readonly PayoutHistoryEntry[],
  ): { transition: Transition; after: PayoutRecord };
  /**
   * Events the transition raises (payout.anomaly, payout.unstuck), stored in the same transaction. `history` is the
   * one judge() got with this event's own entry last.
   */
  raise(context: {
    event: PayoutEvent;
    transition: Transition;
    before: PayoutRecord | undefined;
    after: PayoutRecord;
    history: PayoutHistoryEntry[];
  }): SystemEvent[];
  /** The deliveries of the stored event and of each raised one, planned after judging so rules see the transition. */
  plan(event: RelayEvent): NewDelivery[];
}

export interface PayoutFilter {
  state?: PayoutState | undefined;
  partner?: string | undefined;
  /** Only payouts in their state since before this instant (e.g. `--older-than 6h`). */
  stateSinceBeforeMs?: number | undefined;
  /** Only payouts with at least one payout.anomaly. */
  anomalies?: boolean | undefined;
  /** Only payouts whose confirmation is this (e.g. `pending`: final statuses SkyPay has not confirmed yet). */
  confirmation?: PayoutConfirmation | undefined;
  /** Only payouts not in a final state (uploaded, amendedSuccess, amendedFailure). */
  open?: boolean | undefined;
  /** Only payouts past one of these cutoffs (the stuck ones, as StuckCheck); none when it is empty. */
  stuck?: readonly StuckCutoff[] | undefined;
  /** Only ids older than this one (the previous page's last id). */
  before?: string | undefined;
  limit: number;
}

/** What countPayouts counts: a listing's filters, without its page. */
export type PayoutCountFilter = Omit<PayoutFilter, 'before' | 'limit'>;

/** A payout as operators see it. */
export interface PayoutView {
  id: string;
  partner: string;
  controlNumber: string;
  state: PayoutState;
  final: boolean;
  firstSeenAt: string;
  lastSeenAt: string;
  lastDealTime: string;
  stateSince: string;
  stuckState: PayoutState | null;
  anomalies: number;
  confirmation: PayoutConfirmation;
}

/** One payout with its events (each with duplicates, conflicting copies and deliveries), oldest first. */
export interface PayoutDetail {
  payout: PayoutView;
  events: EventDetail[];
  /** What SkyPay's status query said of it, oldest first (issue 10 §3). */
  reconciliations: ReconciliationView[];
}

/**
 * What reconciliation did with SkyPay's answer for one payout: `created` the event skyrelay missed, `duplicate` (that
 * event was already stored), `agrees` (SkyPay says what skyrelay holds), `confirmed` (it says the final status a
 * callback brought: the payout's confirmation is now confirmed), `contradiction` (a payout.anomaly was raised),
 * `out-of-window` (a time in the answer is outside skypay.maxAgeDays / maxFutureMinutes: an anomaly, nothing made),
 * `open` (still open on both sides), `record` (a status that says nothing of the lifecycle: 0, 10, 11),
 * `unkeyed` (a final status without any time to key its event by), `missing` (left out of SkyPay's answer),
 * `unreadable` (its item in the answer could not be read).
 */
export type ReconciliationOutcome =
  | 'created'
  | 'duplicate'
  | 'agrees'
  | 'confirmed'
  | 'contradiction'
  | 'out-of-window'
  | 'open'
  | 'record'
  | 'unkeyed'
  | 'missing'
  | 'unreadable';

export const RECONCILIATION_OUTCOMES: readonly ReconciliationOutcome[] = [
  'created',
  'duplicate',
  'agrees',
  'confirmed',
  'contradiction',
  'out-of-window',
  'open',
  'record',
  'unkeyed',
  'missing',
  'unreadable',
];

/** One payout's reconciliation result, as the reconciler records it. */
export interface NewReconciliation {
  partner: string;
  controlNumber: string;
  checkedMs: number;
  /** SkyPay's status code; null when the payout was missing from the answer or unreadable. */
  status: number | null;
  statusDesc: string;
  outcome: ReconciliationOutcome;
  /** What it means and what was done, in words (no secret: only what SkyPay said of the payout). */
  detail: string;
  /** The event created, or the anomaly raised. */
  eventId: string | null;
}

/**
 * A reconciliation result on a payout's timeline. The same answer asked again (same status, outcome and detail) is
 * counted on the row it repeats, so a payout open for days keeps a few rows, not one per interval.
 */
export interface ReconciliationView {
  firstCheckedAt: string;
  lastCheckedAt: string;
  checks: number;
  status: number | null;
  statusDesc: string;
  outcome: ReconciliationOutcome;
  detail: string;
  eventId: string | null;
}

/** Which open payouts a reconciliation round asks about (Store.listOpenPayouts). */
export interface OpenPayoutQuery {
  firstSeenBeforeMs: number;
  limit: number;
  /** Only this partner's (the status query asks with one partner's credentials). */
  partner?: string | undefined;
  /** Only payouts not reconciled since this instant: what makes one round per interval across the cluster. */
  notCheckedSinceMs?: number | undefined;
}

/** Which final statuses a reconciliation round asks SkyPay to confirm (Store.listPendingConfirmations). */
export interface PendingConfirmationQuery {
  /** Only payouts final since before this instant: SkyPay answers about a status only 300 s after it (minAgeMs). */
  stateSinceBeforeMs: number;
  limit: number;
  partner?: string | undefined;
  /** Only payouts not reconciled since this instant, as OpenPayoutQuery: one question per interval per payout. */
  notCheckedSinceMs?: number | undefined;
}

/**
 * SkyPay's answer settling a pending confirmation (Store.settleConfirmation): the payout's confirmation moves from
 * `pending` to `confirmation` and `event` (payout.confirmed, or payout.anomaly of kind unconfirmed) is stored with its
 * deliveries, in one transaction, only if the payout still holds `state` and is still pending: two processes asking
 * at once settle it once.
 */
export interface ConfirmationSettlement {
  partner: string;
  controlNumber: string;
  /** The final state SkyPay was asked about. */
  state: PayoutState;
  confirmation: 'confirmed' | 'contradicted';
  event: SystemEvent;
  deliveries: NewDelivery[];
}

/** Payout events the stuck check raises, one per payout, in the transaction that marks them. */
/**
 * Payouts in `state` since before `stateSinceBeforeMs` are stuck: only `partner`'s when it is set, else every
 * partner's but those in `exceptPartners` (which have cutoffs of their own). Computed outside the store
 * (src/payouts/stuck-after.ts): the waits per state and partner are configuration. The cutoffs given together never
 * overlap (no payout is past two of them), which the store relies on to count them one by one.
 */
export interface StuckCutoff {
  state: PayoutState;
  stateSinceBeforeMs: number;
  partner?: string | undefined;
  exceptPartners?: readonly string[] | undefined;
}

export interface StuckCheck {
  /** Open payouts past any of these cutoffs, not yet reported stuck in their state; none when it is empty. */
  cutoffs: readonly StuckCutoff[];
  limit: number;
  build(payout: PayoutRecord): SystemEvent;
  plan(event: RelayEvent): NewDelivery[];
}

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

/** What a destination did last, from its attempts: the dashboard's destinations page. */
export interface DestinationActivity {
  destination: string;
  /** When its last delivered attempt started; null if none is on record. */
  lastSuccessAt: string | null;
  /** Its last failed attempt (retried or dead): when, the status and what went wrong. */
  lastErrorAt: string | null;
  lastErrorStatus: number | null;
  lastError: string | null;
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
