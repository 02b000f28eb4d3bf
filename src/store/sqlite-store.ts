import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { DatabaseLostError, StorageUnavailableError, StoreBusyError } from '../errors';
import type { RelayEvent } from '../event';
import { createBatcher, type Batcher } from './group-commit';
import { prepareEventWriter, prepareRejectionWriter, prepareSuppressedWriter, type EventWrite } from './events';
import { openDatabase, type SqliteOptions } from './sqlite';
import { prepareOutbox } from './outbox';
import type {
  AttemptRecord,
  ClaimOptions,
  ClaimedDelivery,
  DeliveryNext,
  IngestStore,
  NewDelivery,
  NewRejection,
  OutboxStore,
  SaveOutcome,
  SuppressedRejections,
} from './types';

interface FinishWrite {
  delivery: ClaimedDelivery;
  owner: string;
  attempt: AttemptRecord;
  next: DeliveryNext;
}

/** What /healthz, /readyz, the log and the alert say when the file under the open handle is gone. */
export const DATABASE_LOST_REASON = 'database file was removed or replaced';
/** Without traffic a removed file is still noticed (log, alert, probes) within this long. */
const FILE_CHECK_INTERVAL_MS = 1_000;

interface FileIdentity {
  dev: bigint;
  ino: bigint;
}

export interface SqliteStoreOptions extends SqliteOptions {
  maxBatch?: number;
  /** Told once (on a later turn) when the database file turns out removed or replaced. */
  onLost?: (reason: string) => void;
}

/** The embedded store: one SQLite file in WAL mode, shared safely by several processes. */
export class SqliteStore implements IngestStore, OutboxStore {
  readonly db: Database.Database;
  private readonly events: Batcher<EventWrite, SaveOutcome>;
  private readonly rejections: Batcher<NewRejection, void>;
  private readonly suppressed: Batcher<SuppressedRejections, void>;
  private readonly outbox: ReturnType<typeof prepareOutbox>;
  private readonly finishes: Batcher<FinishWrite, void>;
  private closed = false;
  private readonly path: string;
  /** The file as it was when opened; undefined for an in-memory database. */
  private readonly file: FileIdentity | undefined;
  private lost: string | undefined;
  private readonly fileWatch: NodeJS.Timeout | undefined;
  private readonly writeEvents: (writes: EventWrite[]) => SaveOutcome[];
  /** The last write failure, cleared by the next successful write: what /readyz reports. */
  private writeFailure: string | undefined;

  constructor(private readonly options: SqliteStoreOptions) {
    this.db = openDatabase(options);
    this.path = options.path;
    this.file = identify(options.path);
    const batching = { maxBatch: options.maxBatch ?? 256, busyTimeoutMs: options.busyTimeoutMs ?? 5_000, isBusy };
    const writeEvents = prepareEventWriter(this.db);
    this.writeEvents = writeEvents;
    // One stat per group commit, not per callback: a removed file must not take another 1000.
    this.events = createBatcher(
      (writes: EventWrite[]) => {
        this.requireFile();
        return writeEvents(writes);
      },
      { ...batching, failsAll: (err) => err instanceof DatabaseLostError },
    );
    this.rejections = createBatcher(prepareRejectionWriter(this.db), batching);
    const writeSuppressed = prepareSuppressedWriter(this.db);
    // Through a batcher for its retries while another process holds the write lock.
    this.suppressed = createBatcher((counts: SuppressedRejections[]) => {
      writeSuppressed(counts);
      return counts.map(() => undefined);
    }, batching);
    this.outbox = prepareOutbox(this.db);
    // Sends that finish in the same turn share one commit (one fsync) instead of paying one each.
    const finishAll = this.db.transaction((items: FinishWrite[]) =>
      items.map((f) => this.outbox.finish(f.delivery, f.owner, f.attempt, f.next)),
    );
    this.finishes = createBatcher((items: FinishWrite[]) => finishAll.immediate(items), batching);
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
  writeDespiteLoss(event: RelayEvent, deliveries: NewDelivery[]): void {
    this.assertOpen();
    this.writeEvents([{ event, deliveries }]);
  }

  private requireFile(): void {
    if (this.checkFile() !== undefined) {
      throw new DatabaseLostError('store unavailable; send again later', { code: 'DATABASE_FILE_LOST' });
    }
  }

  async saveEvent(event: RelayEvent, deliveries: NewDelivery[]): Promise<SaveOutcome> {
    this.assertOpen();
    return this.events.submit({ event, deliveries }).then(
      (outcome) => {
        this.writeFailure = undefined;
        return outcome;
      },
      (err: unknown) => {
        this.writeFailure = describeCode(err);
        return toStorageError(err);
      },
    );
  }

  /**
   * Called once the daemon serves. Until then (migrations, every component preparing its statements) SQLite's
   * busy handler waits up to busyTimeoutMs, as nothing is being answered yet: with 10 ms, a second process
   * starting on the same file beside the first could fail to start with "database is locked" (seen in CI).
   * From here on that handler, which sleeps on the event loop, only bridges other processes' short commits;
   * longer waits are the batchers' asynchronous retries, so /healthz answers meanwhile.
   */
  shortenBusyWait(): void {
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
    return this.finishes.submit({ delivery, owner, attempt, next }).catch(toStorageError);
  }

  async nextWakeAt(): Promise<number | undefined> {
    this.assertOpen();
    return this.outbox.nextWakeAt();
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

  async close(): Promise<void> {
    if (this.closed) return;
    await this.events.flush();
    await this.rejections.flush();
    await this.suppressed.flush();
    await this.finishes.flush();
    this.closed = true;
    if (this.fileWatch) clearInterval(this.fileWatch);
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageUnavailableError('store is closed');
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
  if (err instanceof StorageUnavailableError) return err.code;
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
  if (err instanceof StorageUnavailableError) throw err;
  const code = codeOf(err);
  const options = { cause: err, ...(code ? { code } : {}) };
  if (isBusy(err)) throw new StoreBusyError('store busy; send again later', options);
  throw new StorageUnavailableError('store unavailable; send again later', options);
}
