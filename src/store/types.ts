import type { CallbackEvent, RelayEvent } from '../event';
import type { DeliveryState } from '../delivery/types';
import type { GroupMembership, SilencedRoute } from '../alerts/types';
import type { PayoutView, ReconciliationView } from '../payouts/types';

/**
 * What operators ask of the store (InspectStore, ReplayStore), shared by the `skyrelay` CLI and the admin
 * API so both filter, page and replay the same way. Listings are newest
 * first by id (ids are time-sortable); a page's last id is the next cursor.
 */

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
  /** The partner and control number the event names: a callback's own, or the payout a skyrelay event is about. */
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
  /** Only dead deliveries that hold their payout's later events (an ordered destination's orderedOnDead "hold"). */
  held?: boolean | undefined;
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
  /**
   * A dead delivery to an ordered destination that holds its payout's later events there (orderedOnDead "hold"):
   * since when, until it is replayed or released. Null otherwise.
   */
  heldSince: string | null;
  /**
   * A delivery to an ordered destination: its event's place among the payout's ordered events (1 for the first
   * stored), the order it is sent in. Null for a delivery that stands in no payout's line.
   */
  payoutSeq: number | null;
  /** A pending delivery to an ordered destination whose turn has not come: the delivery of its payout it waits for. */
  waitingFor: string | null;
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

/** What releasing a held delivery did: released (and how many of the payout's deliveries it let go on), or why not. */
export type HoldRelease =
  | { released: true; waiting: number }
  /** `state` undefined: no such delivery; else it was not holding anything (a dead one already released, or never). */
  | { released: false; state: DeliveryState | undefined };

export interface ReplayFilter {
  state: 'dead' | 'delivered';
  destination?: string | undefined;
  sinceMs?: number | undefined;
}

/** One payout with its events (each with duplicates, conflicting copies and deliveries), oldest first. */
export interface PayoutDetail {
  payout: PayoutView;
  events: EventDetail[];
  /** What SkyPay's status query said of it, oldest first. */
  reconciliations: ReconciliationView[];
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
