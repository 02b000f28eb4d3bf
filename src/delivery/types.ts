import type { RelayEvent } from '../event';

/** Deliveries as the delivery worker and the store's outbox exchange them. */
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
  /**
   * Set for a payout event's delivery to an ordered destination: it is sent only after the payout's earlier events
   * were delivered to that destination (or died), one at a time (src/store/ordering.ts).
   */
  ordered?: boolean | undefined;
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
  /**
   * The hand-off: where no other owner holds a live lease on the destination, its deliveries may be leased to
   * `owner` past maxInFlight, until `owner` holds this many (sending, or waiting in its memory for a slot). The owner
   * sends at most maxInFlight at once and keeps the rest in memory, their leases renewed; other processes' claims
   * count them as in flight, so they send none meanwhile. A store that does not grant it leases up to maxInFlight.
   */
  handOff?: (destination: string) => number;
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
  /**
   * The one send an open breaker lets through per probe interval: its attempt is not counted against maxAttempts
   * (the store left the count as it was), and a failure leaves it pending.
   */
  probe?: true;
}

export interface AttemptRecord {
  startedAt: number;
  durationMs: number;
  outcome: 'delivered' | 'retry' | 'dead';
  status?: number | undefined;
  error?: string | undefined;
  response?: string | undefined;
}

export type DeliveryNext =
  | { state: 'delivered' }
  | { state: 'pending'; nextAttemptMs: number }
  /** `hold`: an ordered destination's orderedOnDead "hold": the payout's later deliveries there wait behind it. */
  | { state: 'dead'; hold?: boolean | undefined };

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
 * What a death does to the payout's later events at an ordered destination: they go on (`continue`), or wait behind
 * it for a replay or a release (`hold`).
 */
export type OrderedOnDead = 'continue' | 'hold';

/**
 * A destination's breaker, kept in the store for every process: `closed` sends as usual; `open` (after a run of
 * retryable failures) sends one probe per interval; `paused` (by hand, or a webhook's 410 Gone) sends nothing until
 * resumed. Deliveries to an open or paused destination stay pending: the receiver being down never kills them.
 */
export type BreakerState = 'closed' | 'open' | 'paused';

export const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'paused'];

/** Why a destination is open or paused: failures in a row, a 410 Gone, or an operator. */
export type BreakerReason = 'failures' | 'gone' | 'manual';

/** A retryable failure (or a 410) as the breaker records it: the error already scrubbed. */
export interface BreakerFailure {
  destination: string;
  now: number;
  error: string;
  /** Failures in a row that open the breaker. */
  threshold: number;
  probeIntervalMs: number;
}

/** A destination moved between states: what its alert (destination.unhealthy or .recovered) says. */
export interface BreakerChange {
  destination: string;
  from: BreakerState;
  to: BreakerState;
  reason: BreakerReason | undefined;
  /** When the outage began (ms epoch): now when it opens, the opening time when it recovers. */
  sinceMs: number;
  atMs: number;
  /** The last errors on record, newest first (scrubbed). */
  lastErrors: string[];
  /** Deliveries waiting for it (pending or in flight) at the change. */
  backlog: number;
  /** The alert this change owes, if any: exactly one process gets a change, so one alert goes out. */
  alert: 'unhealthy' | 'recovered' | undefined;
  /** Who paused or resumed it by hand. */
  by?: string | undefined;
}

/** One destination's breaker as the store keeps it (a destination never failed has no row: closed). */
export interface BreakerRecord {
  destination: string;
  state: BreakerState;
  reason: BreakerReason | null;
  failures: number;
  sinceMs: number | null;
  /** Open: when the next probe may go. */
  probeMs: number | null;
  pausedBy: string | null;
  lastErrors: string[];
  lastErrorMs: number | null;
}

export type DeliveryState = 'pending' | 'inflight' | 'delivered' | 'dead';

export const DELIVERY_STATES: readonly DeliveryState[] = ['pending', 'inflight', 'delivered', 'dead'];

export interface AttemptReport {
  delivery: ClaimedDelivery;
  attempt: AttemptRecord;
  next: DeliveryNext;
  /** Why the delivery died, when it did. */
  deadReason?: string;
  /** Set for a payout event's delivery to an ordered destination: what its death does to the payout's later ones. */
  orderedOnDead?: OrderedOnDead;
}
