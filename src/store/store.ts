import type { PayoutEvent, PayoutState, RelayEvent, SystemEvent } from '../event';
import type { DedupRules } from './context';
import type {
  Admission,
  FlushedGroup,
  FoldedWindow,
  GroupFlush,
  PendingGroup,
  SilenceFilter,
  SilenceView,
  NewSilence,
  SilenceAudit,
} from '../alerts/types';
import type {
  DestinationActivity,
  CallbackIdentity,
  DeliveryFilter,
  DeliveryView,
  EventDetail,
  HoldRelease,
  EventFilter,
  EventSummary,
  PayoutDetail,
  RejectionDetail,
  RejectionFilter,
  RejectionView,
  ReplayFilter,
  ReplayResult,
} from './types';
import type { CallbackMinute } from '../ingest/types';
import type { PayoutView } from '../payouts/types';
import type { PruneCounts, PruneCutoffs } from '../retention/types';
import type {
  ConfirmationSettlement,
  NewReconciliation,
  OpenPayoutQuery,
  PayoutCountFilter,
  PayoutFilter,
  PayoutPolicy,
  PayoutRecord,
  PendingConfirmationQuery,
  StuckCheck,
} from '../payouts/types';
import type {
  AttemptRecord,
  BreakerChange,
  BreakerFailure,
  BreakerRecord,
  ClaimOptions,
  ClaimedDelivery,
  DeliveryNext,
  DeliveryState,
  IngestLease,
  NewDelivery,
} from '../delivery/types';
import type { MetricProcess, Sample } from '../metrics/types';
import type { NewRejection, SaveOutcome, SuppressedRejections } from '../ingest/types';
import type { LedgerCounts, LedgerDayRecord, LedgerWindow } from '../ledger/types';

/**
 * The one async interface everything outside src/store/ talks to, split into role parts so each caller asks for
 * only what it uses; `Store` is all of them. Each role is built once (src/store/assemble.ts) over a driver: the
 * embedded SQLite file (src/store/sqlite/) or PostgreSQL for several hosts (src/store/postgres/). Every method rejects only with the
 * store's own errors (src/store/errors.ts) or, for a caller's mistake, a plain Error: StoreUnavailableError (could
 * not reach or commit: the caller answers 503 or retries later), StoreBusyError (a lock was held too long) and
 * DatabaseLostError (the SQLite file was removed or replaced; permanent until restart), both StoreUnavailableErrors,
 * StoreClosedError (used after close()), ReplayCountChangedError (a confirmed bulk replay found another count),
 * SilenceEndedError (expiring a silence that had already ended).
 */

export interface IngestStore {
  /**
   * Stores an event with its deliveries in one transaction, unless a callback with the same identity was ever
   * accepted: then counts the duplicate (or keeps the copy, when its content differs) and writes no deliveries.
   * Resolves only after the commit. With `lease`, deliveries with room are written leased to its owner.
   */
  saveEvent(event: RelayEvent, deliveries: NewDelivery[], lease?: IngestLease): Promise<SaveOutcome>;
  saveRejection(rejection: NewRejection): Promise<void>;
  /** Adds counts of rejections not kept to the `suppressed` column of rows that were (after those rows). */
  addSuppressed(counts: SuppressedRejections[]): Promise<void>;
  /**
   * Takes up to `want` of the `cap` rejection rows all processes on this database together may keep in the minute
   * starting at `minuteMs`; resolves with how many it got (0 once the minute's rows are all taken). A process whose
   * clock is behind is charged to the latest minute any process has taken from.
   */
  takeRejectionRows(minuteMs: number, want: number, cap: number): Promise<number>;
  /**
   * Only for the alert that the store is lost (lostReason set): writes through what is still open, so the worker,
   * which reads the same handle, sends it. Where nothing can be lost (PostgreSQL) it is saveEvent.
   */
  saveEventDespiteLoss(event: RelayEvent, deliveries: NewDelivery[]): Promise<void>;
  /**
   * saveEvent for a payout event, judged against its payout in the same transaction (and group commit): the
   * payout row is updated, `event.transition` is set before it is stored, deliveries are planned after that, and
   * what the policy raises (payout.anomaly, payout.unstuck) is stored with it. A duplicate or conflicting copy
   * changes nothing. Also how reconciliation applies a status it observed: as an event of its own.
   */
  savePayoutEvent(event: PayoutEvent, policy: PayoutPolicy, lease?: IngestLease): Promise<SaveOutcome>;
}

/** Payouts: one row per (partner, controlNumber), kept by savePayoutEvent. */
export interface PayoutStore {
  /** Newest first by id, paged like events. */
  listPayouts(filter: PayoutFilter): Promise<PayoutView[]>;
  /** The payouts with this control number (one per partner, or only `partner`'s), each with its events. */
  getPayouts(controlNumber: string, partner?: string): Promise<PayoutDetail[]>;
  /** Open payouts first seen before `firstSeenBeforeMs`, oldest first, at most `limit`: what reconciliation asks about. */
  listOpenPayouts(options: OpenPayoutQuery): Promise<PayoutRecord[]>;
  /**
   * Records reconciliation results, in one transaction: each on its payout's timeline, counted on the payout's
   * latest row when it says the same (status, outcome, detail) again.
   */
  recordReconciliations(results: readonly NewReconciliation[]): Promise<void>;
  /**
   * Final payouts whose confirmation is pending, in their state since before `stateSinceBeforeMs`, oldest first, at
   * most `limit`: what reconciliation asks SkyPay to confirm.
   */
  listPendingConfirmations(query: PendingConfirmationQuery): Promise<PayoutRecord[]>;
  /** Settles a pending confirmation with its event, once; false when the payout is no longer pending in that state. */
  settleConfirmation(settlement: ConfirmationSettlement): Promise<boolean>;
  /** Marks open payouts stuck in their state and stores one event each (check.build), in one transaction. */
  raiseStuckPayouts(check: StuckCheck): Promise<SystemEvent[]>;
  /** How many payouts are in each state (states with none are absent). */
  countPayoutsByState(): Promise<Partial<Record<PayoutState, number>>>;
  /** How many payouts a listing with these filters would hold in all its pages: the dashboard's stuck and anomalies counts. */
  countPayouts(filter: PayoutCountFilter): Promise<number>;
}

export interface OutboxStore {
  /** Leases due deliveries (pending and due, or inflight with an expired lease) to `owner`, each to one owner only. */
  claimDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]>;
  /** Extends the leases `owner` still holds on sends still running, so no other process takes them meanwhile. */
  renewLeases(owner: string, deliveryIds: readonly string[], leaseUntilMs: number): Promise<void>;
  /** Records the attempt and moves the delivery on, if the lease is still `owner`'s. */
  finishAttempt(delivery: ClaimedDelivery, owner: string, attempt: AttemptRecord, next: DeliveryNext): Promise<void>;
  /**
   * Graceful stop: deliveries `owner` leased but never started go back to pending at once, due now, their attempt
   * not counted. Deliveries no longer leased to `owner` are left alone.
   */
  releaseLeases(owner: string, deliveryIds: readonly string[]): Promise<void>;
  /**
   * When the next pending delivery falls due or a lease expires (ms epoch), if ever. A pending delivery to a
   * destination whose rate slot or pause has not ended counts from when it ends.
   */
  nextWakeAt(): Promise<number | undefined>;
  /**
   * Tells `listener` when another process wrote new work (PostgreSQL LISTEN/NOTIFY). SQLite has no notification:
   * the listener is never called and the worker polls. Returns the unsubscribe.
   */
  onNewWork(listener: () => void): () => void;
}

/**
 * Ordered destinations (src/store/ordering.ts): a finish that passes the payout's line on, and held payouts (what the
 * dead alert counts and an operator releases).
 */
export interface OrderingStore {
  /**
   * finishAttempt for a delivery of a payout's line: in the same commit, the line's next delivery, when this finish
   * brings its turn and it is due, is leased to `owner` until `passOnUntilMs` and resolved, to be sent at once.
   */
  finishInLine(
    delivery: ClaimedDelivery,
    owner: string,
    attempt: AttemptRecord,
    next: DeliveryNext,
    passOnUntilMs: number,
  ): Promise<ClaimedDelivery | undefined>;
  /** How many of the payout's later deliveries to the same destination wait behind this one (pending or in flight). */
  countWaitingBehind(deliveryId: string): Promise<number>;
  /**
   * A dead delivery that holds its payout's later deliveries (orderedOnDead "hold") lets them go on; it stays dead
   * and may still be replayed. Says why not when it held nothing (or there is no such delivery).
   */
  releaseHold(deliveryId: string, now?: number): Promise<HoldRelease>;
}

/** Slack's rate limit: rate slots are taken by claimDeliveries (ClaimOptions.minIntervalMs); a 429 pauses. */
export interface RateLimitStore {
  /** Nothing is claimed for `destination` before `untilMs` (a 429's Retry-After), in any process; never shortens. */
  pauseDestination(destination: string, untilMs: number): Promise<void>;
}

/**
 * Destinations' breakers (src/store/breakers.ts), one state per destination for every process: claims send nothing
 * to a paused destination and one probe per interval to an open one. Each change resolves to the one transaction
 * that made it, which raises its alert; the others resolve undefined.
 */
export interface BreakerStore {
  /** A retryable failure: counted while closed; the one reaching the threshold opens the breaker. */
  recordBreakerFailure(failure: BreakerFailure): Promise<{ state: BreakerChange['to']; change?: BreakerChange }>;
  /** A success: the count starts again, and an open breaker closes with its backlog due now. */
  recordBreakerSuccess(destination: string, now: number): Promise<BreakerChange | undefined>;
  /** Sends nothing to it until resumed (by hand, or a webhook's 410 Gone). Undefined when already paused. */
  pauseSends(pause: {
    destination: string;
    now: number;
    reason: 'gone' | 'manual';
    by?: string | undefined;
    error?: string;
  }): Promise<BreakerChange | undefined>;
  /** By hand: a paused or open destination closes, its backlog due now. Undefined when it was closed. */
  resumeSends(destination: string, now: number, by: string): Promise<BreakerChange | undefined>;
  /** The configured probe intervals applied to open breakers; open ones of destinations without a breaker closed. */
  applyBreakerSettings(
    settings: readonly { destination: string; probeIntervalMs: number | undefined }[],
    now: number,
  ): Promise<void>;
  /** Every destination that has a row (one that never failed nor was paused has none: closed), by name. */
  readBreakers(): Promise<BreakerRecord[]>;
}

/** The outbox as /metrics shows it: counts by destination and state, and the oldest unfinished delivery. */
export interface QueueState {
  byDestination: { destination: string; state: DeliveryState; count: number }[];
  /** Creation time (ms epoch) of the oldest pending or inflight delivery; undefined when none. */
  oldestUnfinishedMs: number | undefined;
}

export interface InspectStore {
  listEvents(filter: EventFilter): Promise<EventSummary[]>;
  getEvent(id: string): Promise<EventDetail | undefined>;
  /** Every event of one payout (each status SkyPay reported), oldest first. */
  findEventsByControlNumber(controlNumber: string): Promise<EventDetail[]>;
  listDeliveries(filter: DeliveryFilter): Promise<DeliveryView[]>;
  listRejections(filter: RejectionFilter): Promise<RejectionView[]>;
  /** One refusal with what was kept of it for forensics (masked, cut body; sizes before cutting). */
  getRejection(id: string): Promise<RejectionDetail | undefined>;
  /** The identities dedup keeps for one payout, oldest first: they outlive their events (store.dedupRetentionDays). */
  findCallbackIdentities(controlNumber: string): Promise<CallbackIdentity[]>;
  /** How many deliveries a bulk replay with this filter would requeue now: what a confirmation must repeat. */
  countReplayable(filter: ReplayFilter): Promise<number>;
  readQueueState(): Promise<QueueState>;
}

export interface ReplayStore {
  /** Puts finished deliveries back in the queue with a fresh attempt budget; pending or inflight ones are skipped. */
  replayDeliveries(ids: readonly string[], now?: number): Promise<ReplayResult>;
  /** Every delivery matching, in one transaction; with `confirm`, only if exactly that many match (else ReplayCountChangedError). */
  replayMatching(filter: ReplayFilter & { confirm?: number | undefined }, now?: number): Promise<ReplayResult>;
  /** Sends an event again as `plan` routes it now; undefined when there is no such event. */
  replayEvent(
    eventId: string,
    plan: (event: RelayEvent) => NewDelivery[],
    now?: number,
  ): Promise<ReplayResult | undefined>;
}

export interface RetentionStore {
  /** One bounded batch in one transaction: at most `limit` events (with their rows), rejections and keys. */
  pruneBatch(cutoffs: PruneCutoffs, limit: number): Promise<PruneCounts>;
  /** What a prune would delete now (deliveries and attempts not counted): for --dry-run. */
  countPrunable(cutoffs: PruneCutoffs): Promise<{ events: number; rejections: number }>;
}

export interface AlertWindowStore {
  /**
   * Which of `destinations` get an alert for this rejection now (opening their window); the rest are folded into
   * their open window. One transaction, shared by every process.
   */
  admitRejectionAlert(
    rejection: NewRejection,
    destinations: readonly string[],
    now: number,
    windowMs: number,
  ): Promise<Admission[]>;
  /** Closes expired windows: those with folded rejections are returned (and reopened), empty ones dropped. */
  closeExpiredAlertWindows(now: number, windowMs: number): Promise<(FoldedWindow & { destination: string })[]>;
}

/** Silences and their audit trail (who created and expired each, when); matching happens outside the store. */
export interface SilenceStore {
  createSilence(silence: NewSilence): Promise<SilenceView>;
  /** Every silence (active, yet to start and ended), newest first. */
  listSilences(filter: SilenceFilter): Promise<SilenceView[]>;
  /** Silences not ended at `now` (active or yet to start): what routing reads again on every refresh. */
  listCurrentSilences(now: number): Promise<SilenceView[]>;
  /**
   * Ends a silence now, recording who did it (and, given `audit`, their credential and address). Undefined when there
   * is no such silence; SilenceEndedError when it had already ended (its first expiry is kept).
   */
  expireSilence(id: string, expiredBy: string, now: number, audit?: SilenceAudit): Promise<SilenceView | undefined>;
}

/**
 * Grouping for Slack and email destinations: events join groups as members (saveEvent, NewDelivery.groupKey), and
 * a group's window closing turns its waiting members into one message, an event of skyrelay's own with one
 * delivery, in one transaction under the group's lock, so one group is one message whatever the processes.
 */
export interface GroupStore {
  listPendingGroups(): Promise<PendingGroup[]>;
  /** Creates the group's message if it is still due: undefined when not (or nothing waits any more). */
  flushGroup(flush: GroupFlush): Promise<FlushedGroup | undefined>;
}

export interface MetricTotalsStore {
  /** Adds the deltas to the shared totals and saves this process's row, in one transaction. */
  publishMetrics(deltas: readonly Sample[], process: MetricProcess & { now: number }): Promise<void>;
  readMetricTotals(): Promise<Sample[]>;
  /** Process rows updated at or after `sinceMs`, by instance. */
  readMetricProcesses(sinceMs: number): Promise<MetricProcess[]>;
  dropMetricProcess(instance: string): Promise<void>;
  dropStaleMetricProcesses(beforeMs: number): Promise<void>;
}

export interface HealthStore {
  /** Liveness: a trivial read, answered fast (never waits on a write lock). */
  ping(): Promise<void>;
  /** Readiness after a failed write: a tiny write; clears lastWriteFailure when it commits. */
  probeWrite(): Promise<void>;
  /** Undefined while writes succeed; else why the last failed (an operator-facing code, e.g. SQLITE_FULL). */
  readonly lastWriteFailure: string | undefined;
  /** Set when the store is gone for good until restart (SQLite file removed or replaced); undefined otherwise. */
  readonly lostReason: string | undefined;
  /** Statements run since the store opened (PostgreSQL: each one a round trip, BEGIN and COMMIT included). */
  readonly statements: number;
}

export interface ClusterJobs {
  /**
   * Runs `job` only if this process holds the cluster-wide lock named `name`, held while the job runs
   * (PostgreSQL: a session advisory lock, released if the holder dies; SQLite: a lock row with an owner and an
   * expiry, renewed while the job runs). Resolves undefined, without running it, when another process holds it.
   */
  runExclusive<T>(name: string, job: () => Promise<T>): Promise<T | undefined>;
}

/** What only the dashboard (src/ui/) asks: callbacks per minute for its chart, and destinations' last outcomes. */
export interface DashboardStore {
  /** Adds these counts to the shared per-minute totals and drops minutes before `pruneBeforeMs`, in one transaction. */
  addCallbackMinutes(counts: readonly CallbackMinute[], pruneBeforeMs: number): Promise<void>;
  /** The per-minute totals from `sinceMs` on, oldest first; minutes with no callbacks are absent. */
  readCallbackMinutes(sinceMs: number): Promise<CallbackMinute[]>;
  /** One row per destination that has attempts on record, by name. */
  readDestinationActivity(): Promise<DestinationActivity[]>;
  /**
   * Records that a dashboard session was signed out, so its cookie is refused by every process until it would
   * have expired anyway; drops the records of sessions already expired.
   */
  endSession(sessionId: string, expiresMs: number, now?: number): Promise<void>;
  isSessionEnded(sessionId: string): Promise<boolean>;
}

/** The ledger: a day's rows added up (src/store/ledger.ts), and the daily summary's record of each day. */
export interface LedgerStore {
  /** Counts the callbacks, events, routes and payouts of a window; rows that fit no bucket are named. */
  readLedgerCounts(window: LedgerWindow): Promise<LedgerCounts>;
  /**
   * Records a day's summary and stores its event with `routes`, in one transaction, unless the day already has one
   * (another process raised it): then nothing is written and it resolves false.
   */
  raiseLedgerDay(
    record: LedgerDayRecord,
    event: RelayEvent,
    routes: readonly NewDelivery[],
    now?: number,
  ): Promise<boolean>;
  readLedgerDay(day: string): Promise<LedgerDayRecord | undefined>;
  /** The latest day a summary was recorded for: what /metrics shows. */
  readLatestLedgerDay(): Promise<LedgerDayRecord | undefined>;
}

export interface Store
  extends
    IngestStore,
    OutboxStore,
    RateLimitStore,
    OrderingStore,
    BreakerStore,
    InspectStore,
    ReplayStore,
    RetentionStore,
    AlertWindowStore,
    GroupStore,
    MetricTotalsStore,
    HealthStore,
    ClusterJobs,
    SilenceStore,
    PayoutStore,
    DashboardStore,
    LedgerStore {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * The daemon now answers requests: waits that were fine while starting (SQLite's busy handler, which sleeps on
   * the event loop) are shortened. Nothing to do where waits never block the event loop.
   */
  markServing(): void;
  /** Flushes group commits and closes; a second call returns the first's promise. */
  close(): Promise<void>;
}

/** What openStore (src/store/index.ts) needs: config.store, the dedup rules, and a hook for the daemon. */
export interface StoreOptions {
  /** The decisions about callbacks the store executes (src/ingest/dedup.ts). */
  rules: DedupRules;
  /** SQLite file (store.path), used when `url` is not set. */
  path: string;
  /** postgres://... (store.url): selects PostgreSQL. May hold a password: never log it. */
  url?: string | undefined;
  /** PostgreSQL connections per process (store.poolSize). */
  poolSize?: number;
  /** How long a writer waits for another's lock before giving up (StoreBusyError). */
  busyTimeoutMs?: number;
  /** SQLite: FULL survives power loss; NORMAL only process crashes. */
  synchronous?: 'FULL' | 'NORMAL';
  /** Most writes one group commit takes. */
  maxBatch?: number;
  /** Told once (on a later turn) when the store is lost for good (lostReason). */
  onLost?: (reason: string) => void;
  /** Fail instead of creating an empty database (the CLI inspects an existing one). */
  mustExist?: boolean;
  /** PostgreSQL: how long getting a connection may take before a call fails as unavailable. */
  connectTimeoutMs?: number;
  /** PostgreSQL: the longest ping waits for an answer (liveness must answer fast). */
  pingTimeoutMs?: number;
}
