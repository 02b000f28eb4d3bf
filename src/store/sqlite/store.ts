import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import type { PayoutEvent, PayoutState, RelayEvent, SystemEvent } from '../../event';
import {
  DatabaseLostError,
  ReplayCountChangedError,
  SilenceEndedError,
  StoreBusyError,
  StoreClosedError,
  StoreNotFoundError,
  StoreUnavailableError,
} from '../errors';
import { createBatcher, type Batcher } from '../group-commit';
import type { MetricProcess, QueueState, Store, StoreOptions } from '../store';
import type {
  Admission,
  CallbackMinute,
  DestinationActivity,
  AttemptRecord,
  CallbackIdentity,
  ClaimOptions,
  ClaimedDelivery,
  DeliveryFilter,
  DeliveryNext,
  DeliveryView,
  EventDetail,
  EventFilter,
  EventSummary,
  FlushedGroup,
  FoldedWindow,
  GroupFlush,
  IngestLease,
  NewDelivery,
  NewRejection,
  NewReconciliation,
  OpenPayoutQuery,
  PendingConfirmationQuery,
  ConfirmationSettlement,
  PayoutDetail,
  PayoutCountFilter,
  PayoutFilter,
  PayoutPolicy,
  PayoutRecord,
  PayoutView,
  PendingGroup,
  PruneCounts,
  PruneCutoffs,
  RejectionDetail,
  RejectionFilter,
  RejectionView,
  ReplayFilter,
  ReplayResult,
  Sample,
  SaveOutcome,
  NewSilence,
  SilenceFilter,
  SilenceView,
  StuckCheck,
  SuppressedRejections,
} from '../types';
import { prepareAlertWindows } from './alert-windows';
import { prepareDashboard } from './dashboard';
import { openDatabase } from './database';
import { prepareEventWriter, prepareRejectionWriter, prepareSuppressedWriter, type EventWrite } from './events';
import { prepareGroups } from './groups';
import { prepareJobLocks } from './job-locks';
import { prepareSharedMetrics } from './metric-totals';
import { prepareOutbox } from './outbox';
import { preparePayouts } from './payouts';
import * as queries from './queries';
import { toPayoutView } from '../rows';
import { prepareQueueState } from './queue-state';
import { preparePruner } from './retention';
import { prepareSilences } from './silences';

interface FinishWrite {
  delivery: ClaimedDelivery;
  owner: string;
  attempt: AttemptRecord;
  next: DeliveryNext;
}

/** What the one group commit carries: callbacks' events and the attempts that finished meanwhile. */
type GroupWrite = { event: EventWrite } | { finish: FinishWrite };

/** What /healthz, /readyz, the log and the alert say when the file under the open handle is gone. */
export const DATABASE_LOST_REASON = 'database file was removed or replaced';
/** Without traffic a removed file is still noticed (log, alert, probes) within this long. */
const FILE_CHECK_INTERVAL_MS = 1_000;

interface FileIdentity {
  dev: bigint;
  ino: bigint;
}

/** How long a job lock is held without renewal: a process that died holding one blocks the job this long. */
const JOB_LOCK_MS = 30_000;

/** The embedded store: one SQLite file in WAL mode, shared safely by several processes. */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  /** The open handle: only for tests that inject faults under the store (test/support/sqlite-faults.ts). */
  readonly db: Database.Database;
  /** Events and finished attempts, one transaction (one fsync) for whatever arrived together. */
  private readonly writes: Batcher<GroupWrite, SaveOutcome | DatabaseLostError | undefined>;
  private readonly rejections: Batcher<NewRejection, void>;
  private readonly suppressed: Batcher<SuppressedRejections, void>;
  private readonly outbox: ReturnType<typeof prepareOutbox>;
  private closing: Promise<void> | undefined;
  private closed = false;
  private readonly alertWindows: ReturnType<typeof prepareAlertWindows>;
  private readonly metricTotals: ReturnType<typeof prepareSharedMetrics>;
  private readonly pruner: ReturnType<typeof preparePruner>;
  private readonly queueState: () => QueueState;
  private readonly jobLocks: ReturnType<typeof prepareJobLocks>;
  private readonly silences: ReturnType<typeof prepareSilences>;
  private readonly payouts: ReturnType<typeof preparePayouts>;
  private readonly dashboard: ReturnType<typeof prepareDashboard>;
  private readonly groups: ReturnType<typeof prepareGroups>;
  /** Who holds job locks taken through this store: unique per store, so two stores on one file are two holders. */
  private readonly jobOwner = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly jobsHeld = new Set<string>();
  private readonly path: string;
  /** The file as it was when opened; undefined for an in-memory database. */
  private readonly file: FileIdentity | undefined;
  private lost: string | undefined;
  private readonly fileWatch: NodeJS.Timeout | undefined;
  private readonly writeEvents: (writes: EventWrite[]) => SaveOutcome[];
  /** The last write failure, cleared by the next successful write: what /readyz reports. */
  private writeFailure: string | undefined;

  constructor(private readonly options: StoreOptions) {
    if (options.mustExist && options.path !== ':memory:' && !fs.existsSync(options.path)) {
      throw new StoreNotFoundError(`no database at ${options.path}`);
    }
    this.db = openDatabase(options);
    this.path = options.path;
    this.file = identify(options.path);
    const batching = { maxBatch: options.maxBatch ?? 256, busyTimeoutMs: options.busyTimeoutMs ?? 5_000, isBusy };
    const eventWriter = prepareEventWriter(this.db);
    this.writeEvents = eventWriter.write;
    this.outbox = prepareOutbox(this.db);
    // Sends that finish while callbacks arrive share their commit (one fsync) instead of paying one of their own.
    // A lost file fails only the events (their callers must not get a 1000); attempts still go to the open handle,
    // which the worker reads too, as before.
    const writeGroup = this.db.transaction((items: GroupWrite[]) => {
      // Finishes first: the in-flight slots they free count for the leases of the events after them.
      for (const i of items) {
        if ('finish' in i) this.outbox.finish(i.finish.delivery, i.finish.owner, i.finish.attempt, i.finish.next);
      }
      const lost = items.some((i) => 'event' in i) ? this.lostError() : undefined;
      const events = lost ? [] : eventWriter.writeWithin(items.flatMap((i) => ('event' in i ? [i.event] : [])));
      let e = 0;
      return items.map((i) => ('finish' in i ? undefined : (lost ?? events[e++])));
    });
    // One stat per group commit, not per callback: a removed file must not take another 1000.
    this.writes = createBatcher((items: GroupWrite[]) => writeGroup.immediate(items), batching);
    this.rejections = createBatcher(prepareRejectionWriter(this.db), batching);
    const writeSuppressed = prepareSuppressedWriter(this.db);
    // Through a batcher for its retries while another process holds the write lock.
    this.suppressed = createBatcher((counts: SuppressedRejections[]) => {
      writeSuppressed(counts);
      return counts.map(() => undefined);
    }, batching);
    this.alertWindows = prepareAlertWindows(this.db);
    this.metricTotals = prepareSharedMetrics(this.db);
    this.pruner = preparePruner(this.db);
    this.queueState = prepareQueueState(this.db);
    this.jobLocks = prepareJobLocks(this.db);
    this.silences = prepareSilences(this.db);
    this.payouts = preparePayouts(this.db);
    this.dashboard = prepareDashboard(this.db);
    this.groups = prepareGroups(this.db);
    if (this.file) {
      this.fileWatch = setInterval(() => this.checkFile(), FILE_CHECK_INTERVAL_MS);
      this.fileWatch.unref();
    }
  }

  /**
   * Why the open database is no longer the file at store.path, or undefined
   * while it is (one stat: same device and inode as when opened). Sticky: a
   * file put back is not trusted again until a restart opens it afresh.
   */
  checkFile(): string | undefined {
    if (this.lost !== undefined || !this.file) return this.lost;
    const now = identify(this.path, true);
    if (now && now.dev === this.file.dev && now.ino === this.file.ino) return undefined;
    this.lost = DATABASE_LOST_REASON;
    const onLost = this.options.onLost;
    if (onLost) setImmediate(() => onLost(DATABASE_LOST_REASON));
    return this.lost;
  }

  /**
   * Writes an event straight through the open handle, lost file or not. Only
   * for the alert that the file is lost: the delivery worker reads this same
   * handle, so the alert goes out although the file is gone.
   */
  async saveEventDespiteLoss(event: RelayEvent, deliveries: NewDelivery[]): Promise<void> {
    this.assertOpen();
    try {
      this.writeEvents([{ event, deliveries }]);
    } catch (err) {
      toStorageError(err);
    }
  }

  get lostReason(): string | undefined {
    return this.checkFile();
  }

  private lostError(): DatabaseLostError | undefined {
    if (this.checkFile() === undefined) return undefined;
    return new DatabaseLostError('store unavailable; send again later', { code: 'DATABASE_FILE_LOST' });
  }

  async saveEvent(event: RelayEvent, deliveries: NewDelivery[], lease?: IngestLease): Promise<SaveOutcome> {
    return this.submitEvent({ event, deliveries, lease });
  }

  async savePayoutEvent(event: PayoutEvent, policy: PayoutPolicy, lease?: IngestLease): Promise<SaveOutcome> {
    return this.submitEvent({ event, deliveries: [], policy, lease });
  }

  listPayouts(filter: PayoutFilter): Promise<PayoutView[]> {
    return this.read(() => this.payouts.list(filter));
  }

  getPayouts(controlNumber: string, partner?: string): Promise<PayoutDetail[]> {
    return this.read(() => {
      const found = this.payouts.find(controlNumber, partner);
      if (found.length === 0) return [];
      const events = queries.findEventsByControlNumber(this.db, controlNumber);
      return found.map((p) => ({
        payout: toPayoutView(p),
        events: events.filter((e) => e.event.source === 'skypay' && e.event.partner === p.partner),
        reconciliations: this.payouts.reconciliationsOf(p.partner, p.controlNumber),
      }));
    });
  }

  listOpenPayouts(options: OpenPayoutQuery): Promise<PayoutRecord[]> {
    return this.read(() => this.payouts.listOpen(options));
  }

  recordReconciliations(results: readonly NewReconciliation[]): Promise<void> {
    return this.read(() => this.payouts.recordReconciliations(results));
  }

  listPendingConfirmations(query: PendingConfirmationQuery): Promise<PayoutRecord[]> {
    return this.read(() => this.payouts.listPending(query));
  }

  settleConfirmation(settlement: ConfirmationSettlement): Promise<boolean> {
    return this.read(() => this.payouts.settleConfirmation(settlement));
  }

  raiseStuckPayouts(check: StuckCheck): Promise<SystemEvent[]> {
    return this.read(() => this.payouts.raiseStuck(check));
  }

  countPayoutsByState(): Promise<Partial<Record<PayoutState, number>>> {
    return this.read(() => this.payouts.countByState());
  }

  countPayouts(filter: PayoutCountFilter): Promise<number> {
    return this.read(() => this.payouts.count(filter));
  }

  private async submitEvent(write: EventWrite): Promise<SaveOutcome> {
    this.assertOpen();
    return this.writes
      .submit({ event: write })
      .then((outcome) => {
        if (outcome instanceof DatabaseLostError) throw outcome;
        if (outcome === undefined) throw new Error('group commit returned no outcome for an event');
        this.writeFailure = undefined;
        return outcome;
      })
      .catch((err: unknown) => {
        this.writeFailure = describeCode(err);
        return toStorageError(err);
      });
  }

  /**
   * Called once the daemon serves. Until then (migrations, every component preparing its statements) SQLite's
   * busy handler waits up to busyTimeoutMs, as nothing is being answered yet: with 10 ms, a second process
   * starting on the same file beside the first could fail to start with "database is locked" (seen in CI).
   * From here on that handler, which sleeps on the event loop, only bridges other processes' short commits;
   * longer waits are the batchers' asynchronous retries, so /healthz answers meanwhile.
   */
  markServing(): void {
    this.db.pragma(`busy_timeout = ${Math.min(SYNC_BUSY_WAIT_MS, this.options.busyTimeoutMs ?? SYNC_BUSY_WAIT_MS)}`);
  }

  /** Undefined while writes succeed; otherwise why the last one failed (e.g. SQLITE_FULL). */
  get lastWriteFailure(): string | undefined {
    return this.writeFailure;
  }

  async saveRejection(rejection: NewRejection): Promise<void> {
    this.assertOpen();
    return this.rejections.submit(rejection).catch(toStorageError);
  }

  async addSuppressed(counts: SuppressedRejections[]): Promise<void> {
    this.assertOpen();
    if (counts.length === 0) return;
    // After the rows they count: a kept row still queued in the batcher is written first.
    await this.rejections.flush();
    await Promise.all(counts.map((c) => this.suppressed.submit(c))).catch(toStorageError);
  }

  async claimDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]> {
    this.assertOpen();
    try {
      return this.outbox.claim(options);
    } catch (err) {
      return toStorageError(err);
    }
  }

  async finishAttempt(
    delivery: ClaimedDelivery,
    owner: string,
    attempt: AttemptRecord,
    next: DeliveryNext,
  ): Promise<void> {
    this.assertOpen();
    // Shares the group commit of whatever else is written in this turn (callbacks, other finishes).
    return this.writes.submit({ finish: { delivery, owner, attempt, next } }).then(() => undefined, toStorageError);
  }

  async renewLeases(owner: string, deliveryIds: readonly string[], leaseUntilMs: number): Promise<void> {
    this.assertOpen();
    if (deliveryIds.length === 0) return;
    try {
      this.outbox.renew(owner, deliveryIds, leaseUntilMs);
    } catch (err) {
      toStorageError(err);
    }
  }

  async releaseLeases(owner: string, deliveryIds: readonly string[]): Promise<void> {
    this.assertOpen();
    if (deliveryIds.length === 0) return;
    // After finishes still queued: a delivery finished in the same turn is not handed back.
    await this.writes.flush();
    try {
      this.outbox.release(owner, deliveryIds, Date.now());
    } catch (err) {
      toStorageError(err);
    }
  }

  async nextWakeAt(): Promise<number | undefined> {
    return this.read(() => this.outbox.nextWakeAt(Date.now()));
  }

  async pauseDestination(destination: string, untilMs: number): Promise<void> {
    await this.read(() => this.groups.pause(destination, untilMs));
  }

  listPendingGroups(): Promise<PendingGroup[]> {
    return this.read(() => this.groups.listPending());
  }

  flushGroup(flush: GroupFlush): Promise<FlushedGroup | undefined> {
    return this.read(() => this.groups.flush(flush));
  }

  /** SQLite tells no one of another process's writes: the worker polls (nextWakeAt and its interval). */
  onNewWork(_listener: () => void): () => void {
    return () => undefined;
  }

  listEvents(filter: EventFilter): Promise<EventSummary[]> {
    return this.read(() => queries.listEvents(this.db, filter));
  }

  getEvent(id: string): Promise<EventDetail | undefined> {
    return this.read(() => queries.getEvent(this.db, id));
  }

  findEventsByControlNumber(controlNumber: string): Promise<EventDetail[]> {
    return this.read(() => queries.findEventsByControlNumber(this.db, controlNumber));
  }

  listDeliveries(filter: DeliveryFilter): Promise<DeliveryView[]> {
    return this.read(() => queries.listDeliveries(this.db, filter));
  }

  listRejections(filter: RejectionFilter): Promise<RejectionView[]> {
    return this.read(() => queries.listRejections(this.db, filter));
  }

  getRejection(id: string): Promise<RejectionDetail | undefined> {
    return this.read(() => queries.getRejection(this.db, id));
  }

  findCallbackIdentities(controlNumber: string): Promise<CallbackIdentity[]> {
    return this.read(() => queries.findCallbackIdentities(this.db, controlNumber));
  }

  countReplayable(filter: ReplayFilter): Promise<number> {
    return this.read(() => queries.countMatching(this.db, filter));
  }

  readQueueState(): Promise<QueueState> {
    return this.read(() => this.queueState());
  }

  addCallbackMinutes(counts: readonly CallbackMinute[], pruneBeforeMs: number): Promise<void> {
    return this.read(() => this.dashboard.addCallbackMinutes(counts, pruneBeforeMs));
  }

  readCallbackMinutes(sinceMs: number): Promise<CallbackMinute[]> {
    return this.read(() => this.dashboard.readCallbackMinutes(sinceMs));
  }

  readDestinationActivity(): Promise<DestinationActivity[]> {
    return this.read(() => this.dashboard.readDestinationActivity());
  }

  endSession(sessionId: string, expiresMs: number, now = Date.now()): Promise<void> {
    return this.read(() => this.dashboard.endSession(sessionId, expiresMs, now));
  }

  isSessionEnded(sessionId: string): Promise<boolean> {
    return this.read(() => this.dashboard.isSessionEnded(sessionId));
  }

  replayDeliveries(ids: readonly string[], now = Date.now()): Promise<ReplayResult> {
    return this.read(() => queries.replayDeliveries(this.db, ids, now));
  }

  replayMatching(filter: ReplayFilter & { confirm?: number | undefined }, now = Date.now()): Promise<ReplayResult> {
    return this.read(() => queries.replayMatching(this.db, filter, now));
  }

  replayEvent(
    eventId: string,
    plan: (event: RelayEvent) => NewDelivery[],
    now = Date.now(),
  ): Promise<ReplayResult | undefined> {
    return this.read(() => queries.replayEvent(this.db, eventId, plan, now));
  }

  pruneBatch(cutoffs: PruneCutoffs, limit: number): Promise<PruneCounts> {
    return this.read(() => this.pruner.batch(cutoffs, limit));
  }

  countPrunable(cutoffs: PruneCutoffs): Promise<{ events: number; rejections: number }> {
    return this.read(() => this.pruner.count(cutoffs));
  }

  admitRejectionAlert(
    rejection: NewRejection,
    destinations: readonly string[],
    now: number,
    windowMs: number,
  ): Promise<Admission[]> {
    return this.read(() => this.alertWindows.admit(rejection, destinations, now, windowMs));
  }

  closeExpiredAlertWindows(now: number, windowMs: number): Promise<(FoldedWindow & { destination: string })[]> {
    return this.read(() => this.alertWindows.closeExpired(now, windowMs));
  }

  publishMetrics(deltas: readonly Sample[], process: MetricProcess & { now: number }): Promise<void> {
    return this.read(() => this.metricTotals.flush(deltas, process));
  }

  readMetricTotals(): Promise<Sample[]> {
    return this.read(() => this.metricTotals.readTotals());
  }

  readMetricProcesses(sinceMs: number): Promise<MetricProcess[]> {
    return this.read(() => this.metricTotals.readProcesses(sinceMs));
  }

  async dropMetricProcess(instance: string): Promise<void> {
    await this.read(() => this.metricTotals.dropProcess(instance));
  }

  createSilence(silence: NewSilence): Promise<SilenceView> {
    return this.read(() => this.silences.create(silence));
  }

  listSilences(filter: SilenceFilter): Promise<SilenceView[]> {
    return this.read(() => this.silences.list(filter));
  }

  listCurrentSilences(now: number): Promise<SilenceView[]> {
    return this.read(() => this.silences.current(now));
  }

  expireSilence(id: string, expiredBy: string, now: number): Promise<SilenceView | undefined> {
    return this.read(() => this.silences.expire(id, expiredBy, now));
  }

  async dropStaleMetricProcesses(beforeMs: number): Promise<void> {
    await this.read(() => this.metricTotals.dropStale(beforeMs));
  }

  /**
   * One host: the lock is a row with an owner and an expiry, renewed while the job runs, so pm2 cluster workers
   * (or a CLI prune next to the daemon) never run the same job at once, and a holder that died frees it on expiry.
   */
  async runExclusive<T>(name: string, job: () => Promise<T>): Promise<T | undefined> {
    this.assertOpen();
    if (this.jobsHeld.has(name)) return undefined;
    const now = Date.now();
    let taken: boolean;
    try {
      taken = this.jobLocks.take(name, this.jobOwner, now, now + JOB_LOCK_MS);
    } catch (err) {
      return toStorageError(err);
    }
    if (!taken) return undefined;
    this.jobsHeld.add(name);
    const renewal = setInterval(() => {
      try {
        this.jobLocks.renew(name, this.jobOwner, Date.now() + JOB_LOCK_MS);
      } catch {
        // A busy moment: the next renewal (well before expiry) tries again.
      }
    }, JOB_LOCK_MS / 3);
    renewal.unref();
    try {
      return await job();
    } finally {
      clearInterval(renewal);
      this.jobsHeld.delete(name);
      try {
        if (!this.closed) this.jobLocks.release(name, this.jobOwner);
      } catch {
        // Left to expire: another process takes it after JOB_LOCK_MS.
      }
    }
  }

  async ping(): Promise<void> {
    this.assertOpen();
    const lost = this.checkFile();
    if (lost !== undefined) throw new DatabaseLostError(lost, { code: 'DATABASE_FILE_LOST' });
    try {
      this.db.prepare('SELECT 1').get();
    } catch (err) {
      toStorageError(err);
    }
  }

  /**
   * A tiny write, for readiness after a failed one: when it commits, the disk
   * has room and is writable again, so the failure is forgotten.
   */
  async probeWrite(): Promise<void> {
    this.assertOpen();
    try {
      this.db
        .prepare(
          'INSERT INTO health_probe (id, written_ms) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET written_ms = excluded.written_ms',
        )
        .run(Date.now());
      this.writeFailure = undefined;
    } catch (err) {
      this.writeFailure = describeCode(err);
      toStorageError(err);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    // Each flush on its own: one failing must not leave the file open.
    for (const batcher of [this.writes, this.rejections, this.suppressed]) {
      await batcher.flush().catch(() => undefined);
    }
    this.closed = true;
    if (this.fileWatch) clearInterval(this.fileWatch);
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new StoreClosedError();
  }

  /** A synchronous read or small write, with the driver's errors turned into the store's own. */
  private async read<T>(work: () => T): Promise<T> {
    this.assertOpen();
    try {
      return work();
    } catch (err) {
      if (err instanceof ReplayCountChangedError || err instanceof SilenceEndedError) throw err;
      return toStorageError(err);
    }
  }
}

/**
 * The longest one statement may block the event loop waiting for another
 * process's write lock (SQLite's busy_timeout). Several writes can meet a
 * held lock in one turn; together they stay well under the 100 ms a health
 * check may take.
 */
const SYNC_BUSY_WAIT_MS = 10;

/** Device and inode of the file at `file`; undefined in memory, or (when `quiet`) if nothing is there. */
function identify(file: string, quiet = false): FileIdentity | undefined {
  if (file === ':memory:' || file === '') return undefined;
  try {
    const stat = fs.statSync(file, { bigint: true });
    return { dev: stat.dev, ino: stat.ino };
  } catch (err) {
    if (quiet) return undefined;
    throw err;
  }
}

function codeOf(err: unknown): string | undefined {
  if (err instanceof StoreUnavailableError) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isBusy(err: unknown): boolean {
  return codeOf(err)?.startsWith('SQLITE_BUSY') ?? false;
}

function describeCode(err: unknown): string {
  return codeOf(err) ?? (err instanceof Error ? err.message : String(err));
}

/**
 * Any database failure on the write path means "not stored": never a 1000.
 * The message reaches SkyPay, so it names no internal code; the code rides
 * along for the log and /readyz.
 */
function toStorageError(err: unknown): never {
  if (err instanceof StoreUnavailableError) throw err;
  const code = codeOf(err);
  const options = { cause: err, ...(code ? { code } : {}) };
  if (isBusy(err)) throw new StoreBusyError('store busy; send again later', options);
  throw new StoreUnavailableError('store unavailable; send again later', options);
}
