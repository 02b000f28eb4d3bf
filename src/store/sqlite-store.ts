import type Database from 'better-sqlite3';
import { StorageUnavailableError, StoreBusyError } from '../errors';
import type { RelayEvent } from '../event';
import { createBatcher, type Batcher } from './group-commit';
import { prepareEventWriter, prepareRejectionWriter, type EventWrite } from './events';
import { openDatabase, type SqliteOptions } from './sqlite';
import { prepareOutbox } from './outbox';
import type {
  AttemptRecord, ClaimOptions, ClaimedDelivery, DeliveryNext, IngestStore, NewDelivery, NewRejection, OutboxStore,
  SaveOutcome,
} from './types';

interface FinishWrite { delivery: ClaimedDelivery; owner: string; attempt: AttemptRecord; next: DeliveryNext }

/** The embedded store: one SQLite file in WAL mode, shared safely by several processes. */
export class SqliteStore implements IngestStore, OutboxStore {
  readonly db: Database.Database;
  private readonly events: Batcher<EventWrite, SaveOutcome>;
  private readonly rejections: Batcher<NewRejection, void>;
  private readonly outbox: ReturnType<typeof prepareOutbox>;
  private readonly finishes: Batcher<FinishWrite, void>;
  private closed = false;
  /** The last write failure, cleared by the next successful write: what /readyz reports. */
  private writeFailure: string | undefined;

  constructor(options: SqliteOptions & { maxBatch?: number }) {
    this.db = openDatabase(options);
    // Migrations above waited for the lock as long as busyTimeoutMs allows (nothing is served yet). From
    // here on SQLite's busy handler, which sleeps on the event loop, only bridges short commits of other
    // processes; longer waits are the batchers' asynchronous retries, so /healthz answers meanwhile.
    this.db.pragma(`busy_timeout = ${Math.min(SYNC_BUSY_WAIT_MS, options.busyTimeoutMs ?? SYNC_BUSY_WAIT_MS)}`);
    const batching = { maxBatch: options.maxBatch ?? 256, busyTimeoutMs: options.busyTimeoutMs ?? 5_000, isBusy };
    this.events = createBatcher(prepareEventWriter(this.db), batching);
    this.rejections = createBatcher(prepareRejectionWriter(this.db), batching);
    this.outbox = prepareOutbox(this.db);
    // Sends that finish in the same turn share one commit (one fsync) instead of paying one each.
    const finishAll = this.db.transaction((items: FinishWrite[]) =>
      items.map((f) => this.outbox.finish(f.delivery, f.owner, f.attempt, f.next)));
    this.finishes = createBatcher((items: FinishWrite[]) => finishAll.immediate(items), batching);
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

  /** Undefined while writes succeed; otherwise why the last one failed (e.g. SQLITE_FULL). */
  get lastWriteFailure(): string | undefined {
    return this.writeFailure;
  }

  async saveRejection(rejection: NewRejection): Promise<void> {
    this.assertOpen();
    return this.rejections.submit(rejection).catch(toStorageError);
  }

  async claimDeliveries(options: ClaimOptions): Promise<ClaimedDelivery[]> {
    this.assertOpen();
    try {
      return this.outbox.claim(options);
    } catch (err) {
      return toStorageError(err);
    }
  }

  async finishAttempt(delivery: ClaimedDelivery, owner: string, attempt: AttemptRecord, next: DeliveryNext): Promise<void> {
    this.assertOpen();
    return this.finishes.submit({ delivery, owner, attempt, next }).catch(toStorageError);
  }

  async nextWakeAt(): Promise<number | undefined> {
    this.assertOpen();
    return this.outbox.nextWakeAt();
  }

  async ping(): Promise<void> {
    this.assertOpen();
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
      this.db.prepare('INSERT INTO health_probe (id, written_ms) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET written_ms = excluded.written_ms')
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
    await this.finishes.flush();
    this.closed = true;
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
