import type pg from 'pg';
import type { PayoutEvent, PayoutState, RelayEvent, SystemEvent } from '../../event';
import { ReplayCountChangedError, SilenceEndedError, StoreClosedError, StoreUnavailableError } from '../errors';
import type { MetricProcess, QueueState, Store } from '../store';
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
  StuckCheck,
  SuppressedRejections,
  NewSilence,
  SilenceFilter,
  SilenceView,
} from '../types';
import { toPayoutView } from '../rows';
import * as payouts from './payouts';
import { addSuppressed, writeEvents, writeRejections, type EventWrite } from './events';
import { describeFailure, failsAll, toStoreError } from './failure';
import { createAsyncBatcher, type AsyncBatcher } from './group-commit';
import * as groups from './groups';
import { WorkListener } from './listener';
import { LOCK_SPACE } from './locks';
import { migrate } from './migrations';
import * as outbox from './outbox';
import { createClient, createPool, inTransaction } from './pool';
import * as queries from './queries';
import * as retention from './retention';
import * as shared from './shared-state';
import * as silences from './silences';
import * as dashboard from './dashboard';

export interface PostgresStoreOptions {
  /** postgres://… (store.url). May hold a password: never logged. */
  url: string;
  /** Connections this process keeps (store.poolSize). */
  poolSize?: number;
  /** How long a statement waits for another session's lock before failing with StoreBusyError (store.busyTimeoutMs). */
  busyTimeoutMs?: number;
  /** Most events one group commit takes. */
  maxBatch?: number;
  /** How long getting a connection may take before a call fails as unavailable. */
  connectTimeoutMs?: number;
  /** The longest ping waits for an answer: liveness must answer fast even when the server does not. */
  pingTimeoutMs?: number;
  /** Connection trouble the store survives by itself (an idle connection dropped, LISTEN lost): for the log. */
  onConnectionError?: (err: Error) => void;
}

/**
 * The store for several hosts: one PostgreSQL database shared by every
 * instance. It keeps the SQLite store's promises (ack only after COMMIT,
 * exact dedup, outbox rows in the event's transaction, per-destination limits
 * across processes), wakes workers with LISTEN/NOTIFY, and survives the
 * server going away: calls fail with StoreUnavailableError meanwhile, and the
 * pool connects again by itself once it is back.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly lostReason: string | undefined = undefined;
  private readonly pool: pg.Pool;
  private readonly events: AsyncBatcher<EventWrite, SaveOutcome>;
  private readonly rejections: AsyncBatcher<NewRejection, void>;
  private readonly listener: WorkListener;
  private readonly connectClient: () => pg.Client;
  private readonly pingTimeoutMs: number;
  private writeFailure: string | undefined;
  private closing: Promise<void> | undefined;

  /** Connects, brings the schema up to date (under an advisory lock) and returns the open store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      const client = store.connectClient();
      client.on('error', () => undefined); // a failure reaches the awaited query below
      try {
        await client.connect();
        await migrate(client);
      } finally {
        await client.end().catch(() => undefined);
      }
    } catch (err) {
      await store.close();
      return toStoreError(err);
    }
    return store;
  }

  private constructor(options: PostgresStoreOptions) {
    const onError = options.onConnectionError ?? (() => undefined);
    const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 1_000;
    this.pool = createPool({
      url: options.url,
      poolSize: options.poolSize ?? 10,
      connectTimeoutMs,
      lockTimeoutMs: options.busyTimeoutMs ?? 5_000,
      onError,
    });
    this.connectClient = () => createClient({ url: options.url, connectTimeoutMs });
    const batching = { maxBatch: options.maxBatch ?? 256, failsAll };
    this.events = createAsyncBatcher(
      (writes: EventWrite[]) => inTransaction(this.pool, (c) => writeEvents(c, writes)),
      batching,
    );
    this.rejections = createAsyncBatcher(
      (rows: NewRejection[]) =>
        inTransaction(this.pool, (c) => writeRejections(c, rows)).then(() => rows.map(() => undefined)),
      batching,
    );
    this.listener = new WorkListener(this.connectClient, onError);
  }

  get lastWriteFailure(): string | undefined {
    return this.writeFailure;
  }

  async saveEvent(event: RelayEvent, deliveries: NewDelivery[], lease?: IngestLease): Promise<SaveOutcome> {
    return this.submitEvent({ event, deliveries, lease });
  }

  async savePayoutEvent(event: PayoutEvent, policy: PayoutPolicy, lease?: IngestLease): Promise<SaveOutcome> {
    return this.submitEvent({ event, deliveries: [], policy, lease });
  }

  listPayouts(filter: PayoutFilter): Promise<PayoutView[]> {
    return this.run((pool) => payouts.listPayouts(pool, filter));
  }

  getPayouts(controlNumber: string, partner?: string): Promise<PayoutDetail[]> {
    return this.run(async (pool) => {
      const found = await payouts.findPayouts(pool, controlNumber, partner);
      if (found.length === 0) return [];
      const events = await queries.findEventsByControlNumber(pool, controlNumber);
      const details: PayoutDetail[] = [];
      for (const p of found) {
        details.push({
          payout: toPayoutView(p),
          events: events.filter((e) => e.event.source === 'skypay' && e.event.partner === p.partner),
          reconciliations: await payouts.listReconciliations(pool, p.partner, p.controlNumber),
        });
      }
      return details;
    });
  }

  listOpenPayouts(options: OpenPayoutQuery): Promise<PayoutRecord[]> {
    return this.run((pool) => payouts.listOpenPayouts(pool, options));
  }

  recordReconciliations(results: readonly NewReconciliation[]): Promise<void> {
    return this.transaction((c) => payouts.recordReconciliations(c, results));
  }

  listPendingConfirmations(query: PendingConfirmationQuery): Promise<PayoutRecord[]> {
    return this.run((pool) => payouts.listPendingConfirmations(pool, query));
  }

  settleConfirmation(settlement: ConfirmationSettlement): Promise<boolean> {
    return this.transaction((c) => payouts.settleConfirmation(c, settlement));
  }

  raiseStuckPayouts(check: StuckCheck): Promise<SystemEvent[]> {
    return this.transaction((c) => payouts.raiseStuck(c, check));
  }

  countPayoutsByState(): Promise<Partial<Record<PayoutState, number>>> {
    return this.run((pool) => payouts.countPayoutsByState(pool));
  }

  countPayouts(filter: PayoutCountFilter): Promise<number> {
    return this.run((pool) => payouts.countPayouts(pool, filter));
  }

  private async submitEvent(write: EventWrite): Promise<SaveOutcome> {
    this.assertOpen();
    return this.events.submit(write).then(
      (outcome) => {
        this.writeFailure = undefined;
        return outcome;
      },
      (err: unknown) => {
        this.writeFailure = describeFailure(err);
        return toStoreError(err);
      },
    );
  }

  /** Nothing can be lost under an open PostgreSQL store: the alert is an ordinary event. */
  async saveEventDespiteLoss(event: RelayEvent, deliveries: NewDelivery[]): Promise<void> {
    await this.saveEvent(event, deliveries);
  }

  async saveRejection(rejection: NewRejection): Promise<void> {
    this.assertOpen();
    return this.rejections.submit(rejection).catch(toStoreError);
  }

  async addSuppressed(counts: SuppressedRejections[]): Promise<void> {
    this.assertOpen();
    if (counts.length === 0) return;
    // After the rows they count: a kept row still queued in the batcher is written first.
    await this.rejections.flush();
    await this.run((pool) => addSuppressed(pool, counts));
  }

  claimDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]> {
    return this.transaction((c) => outbox.claim(c, options));
  }

  renewLeases(owner: string, deliveryIds: readonly string[], leaseUntilMs: number): Promise<void> {
    return this.run((pool) => outbox.renew(pool, owner, deliveryIds, leaseUntilMs));
  }

  finishAttempt(delivery: ClaimedDelivery, owner: string, attempt: AttemptRecord, next: DeliveryNext): Promise<void> {
    return this.run((pool) => outbox.finish(pool, delivery, owner, attempt, next));
  }

  releaseLeases(owner: string, deliveryIds: readonly string[]): Promise<void> {
    return this.transaction((c) => outbox.release(c, owner, deliveryIds, Date.now()));
  }

  nextWakeAt(): Promise<number | undefined> {
    return this.run((pool) => outbox.nextWakeAt(pool, Date.now()));
  }

  pauseDestination(destination: string, untilMs: number): Promise<void> {
    return this.run((pool) => groups.pauseDestination(pool, destination, untilMs));
  }

  listPendingGroups(): Promise<PendingGroup[]> {
    return this.run((pool) => groups.listPendingGroups(pool));
  }

  flushGroup(flush: GroupFlush): Promise<FlushedGroup | undefined> {
    return this.transaction((c) => groups.flushGroup(c, flush));
  }

  onNewWork(listener: () => void): () => void {
    this.assertOpen();
    return this.listener.subscribe(listener);
  }

  listEvents(filter: EventFilter): Promise<EventSummary[]> {
    return this.run((pool) => queries.listEvents(pool, filter));
  }

  getEvent(id: string): Promise<EventDetail | undefined> {
    return this.run((pool) => queries.getEvent(pool, id));
  }

  findEventsByControlNumber(controlNumber: string): Promise<EventDetail[]> {
    return this.run((pool) => queries.findEventsByControlNumber(pool, controlNumber));
  }

  listDeliveries(filter: DeliveryFilter): Promise<DeliveryView[]> {
    return this.run((pool) => queries.listDeliveries(pool, filter));
  }

  listRejections(filter: RejectionFilter): Promise<RejectionView[]> {
    return this.run((pool) => queries.listRejections(pool, filter));
  }

  getRejection(id: string): Promise<RejectionDetail | undefined> {
    return this.run((pool) => queries.getRejection(pool, id));
  }

  findCallbackIdentities(controlNumber: string): Promise<CallbackIdentity[]> {
    return this.run((pool) => queries.findCallbackIdentities(pool, controlNumber));
  }

  countReplayable(filter: ReplayFilter): Promise<number> {
    return this.run((pool) => queries.countReplayable(pool, filter));
  }

  readQueueState(): Promise<QueueState> {
    return this.run((pool) => queries.readQueueState(pool));
  }

  addCallbackMinutes(counts: readonly CallbackMinute[], pruneBeforeMs: number): Promise<void> {
    return this.transaction((c) => dashboard.addCallbackMinutes(c, counts, pruneBeforeMs));
  }

  readCallbackMinutes(sinceMs: number): Promise<CallbackMinute[]> {
    return this.run((pool) => dashboard.readCallbackMinutes(pool, sinceMs));
  }

  readDestinationActivity(): Promise<DestinationActivity[]> {
    return this.run((pool) => dashboard.readDestinationActivity(pool));
  }

  endSession(sessionId: string, expiresMs: number, now = Date.now()): Promise<void> {
    return this.transaction((c) => dashboard.endSession(c, sessionId, expiresMs, now));
  }

  isSessionEnded(sessionId: string): Promise<boolean> {
    return this.run((pool) => dashboard.isSessionEnded(pool, sessionId));
  }

  replayDeliveries(ids: readonly string[], now = Date.now()): Promise<ReplayResult> {
    return this.transaction((c) => queries.replayDeliveries(c, ids, now));
  }

  replayMatching(filter: ReplayFilter & { confirm?: number | undefined }, now = Date.now()): Promise<ReplayResult> {
    return this.transaction(async (c) => {
      const ids = await queries.selectMatchingForReplay(c, filter);
      if (filter.confirm !== undefined && ids.length !== filter.confirm) {
        throw new ReplayCountChangedError(filter.confirm, ids.length);
      }
      return queries.replayDeliveries(c, ids, now);
    });
  }

  replayEvent(
    eventId: string,
    plan: (event: RelayEvent) => NewDelivery[],
    now = Date.now(),
  ): Promise<ReplayResult | undefined> {
    return this.transaction((c) => queries.replayEvent(c, eventId, plan, now));
  }

  pruneBatch(cutoffs: PruneCutoffs, limit: number): Promise<PruneCounts> {
    return this.transaction((c) => retention.pruneBatch(c, cutoffs, limit));
  }

  countPrunable(cutoffs: PruneCutoffs): Promise<{ events: number; rejections: number }> {
    return this.run((pool) => retention.countPrunable(pool, cutoffs));
  }

  admitRejectionAlert(
    rejection: NewRejection,
    destinations: readonly string[],
    now: number,
    windowMs: number,
  ): Promise<Admission[]> {
    return this.transaction((c) => shared.admitRejectionAlert(c, rejection, destinations, now, windowMs));
  }

  closeExpiredAlertWindows(now: number, windowMs: number): Promise<(FoldedWindow & { destination: string })[]> {
    return this.transaction((c) => shared.closeExpiredAlertWindows(c, now, windowMs));
  }

  publishMetrics(deltas: readonly Sample[], process: MetricProcess & { now: number }): Promise<void> {
    return this.transaction((c) => shared.publishMetrics(c, deltas, process));
  }

  readMetricTotals(): Promise<Sample[]> {
    return this.run((pool) => shared.readMetricTotals(pool));
  }

  readMetricProcesses(sinceMs: number): Promise<MetricProcess[]> {
    return this.run((pool) => shared.readMetricProcesses(pool, sinceMs));
  }

  async dropMetricProcess(instance: string): Promise<void> {
    await this.run((pool) => pool.query('DELETE FROM metric_processes WHERE instance = $1', [instance]));
  }

  createSilence(silence: NewSilence): Promise<SilenceView> {
    return this.run((pool) => silences.createSilence(pool, silence));
  }

  listSilences(filter: SilenceFilter): Promise<SilenceView[]> {
    return this.run((pool) => silences.listSilences(pool, filter));
  }

  listCurrentSilences(now: number): Promise<SilenceView[]> {
    return this.run((pool) => silences.listCurrentSilences(pool, now));
  }

  expireSilence(id: string, expiredBy: string, now: number): Promise<SilenceView | undefined> {
    return this.transaction((c) => silences.expireSilence(c, id, expiredBy, now));
  }

  async dropStaleMetricProcesses(beforeMs: number): Promise<void> {
    await this.run((pool) => pool.query('DELETE FROM metric_processes WHERE updated_ms < $1', [beforeMs]));
  }

  /** A trivial read that gives up after pingTimeoutMs, whether the pool is full or the server silent. */
  /** Nothing to shorten: waits for PostgreSQL never block the event loop. */
  markServing(): void {}

  async ping(): Promise<void> {
    this.assertOpen();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailableError('store did not answer in time', { code: 'TIMEOUT' })),
        this.pingTimeoutMs,
      );
    });
    const query = this.pool.query('SELECT 1');
    // The query may still fail after the timeout won; that later failure is already reported.
    query.catch(() => undefined);
    try {
      await Promise.race([query, timeout]);
    } catch (err) {
      toStoreError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  async probeWrite(): Promise<void> {
    this.assertOpen();
    try {
      await this.pool.query(
        `INSERT INTO health_probe (id, written_ms) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET written_ms = excluded.written_ms`,
        [Date.now()],
      );
      this.writeFailure = undefined;
    } catch (err) {
      this.writeFailure = describeFailure(err);
      toStoreError(err);
    }
  }

  /**
   * The lock is a session advisory lock on a connection of its own, held for
   * the whole job: another instance's try fails at once, and if this process
   * dies its session ends and PostgreSQL lets the lock go. So does a dropped
   * connection while the job runs: another instance may then start the same
   * job, which is why the jobs given here (retention batches, alert windows)
   * are each safe to run twice at once, only wasteful.
   */
  async runExclusive<T>(name: string, job: () => Promise<T>): Promise<T | undefined> {
    this.assertOpen();
    const client = this.connectClient();
    // A dropped connection also ends the session and with it the lock; the job's own store calls report it.
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
        [LOCK_SPACE.job, name],
      );
      if (!rows[0]?.locked) {
        await client.end().catch(() => undefined);
        return undefined;
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      return toStoreError(err);
    }
    try {
      return await job();
    } finally {
      // Ending the session releases the lock; no unlock statement to fail halfway.
      await client.end().catch(() => undefined);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.events.flush();
      await this.rejections.flush();
      await this.listener.stop();
      await this.pool.end();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw new StoreClosedError();
  }

  private async run<T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await fn(this.pool);
    } catch (err) {
      return toStoreError(err);
    }
  }

  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await inTransaction(this.pool, fn);
    } catch (err) {
      if (err instanceof ReplayCountChangedError || err instanceof SilenceEndedError) throw err;
      return toStoreError(err);
    }
  }
}
