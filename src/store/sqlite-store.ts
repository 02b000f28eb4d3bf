import type Database from 'better-sqlite3';
import { StorageUnavailableError } from '../errors';
import type { RelayEvent } from '../event';
import { createBatcher, type Batcher } from './group-commit';
import { prepareEventWriter, prepareRejectionWriter, prepareSuppressedWriter, type EventWrite } from './events';
import { openDatabase, type SqliteOptions } from './sqlite';
import { prepareOutbox } from './outbox';
import type {
  AttemptRecord, ClaimOptions, ClaimedDelivery, DeliveryNext, IngestStore, NewDelivery, NewRejection, OutboxStore,
  SaveOutcome, SuppressedRejections,
} from './types';

interface FinishWrite { delivery: ClaimedDelivery; owner: string; attempt: AttemptRecord; next: DeliveryNext }

/** The embedded store: one SQLite file in WAL mode, shared safely by several processes. */
export class SqliteStore implements IngestStore, OutboxStore {
  readonly db: Database.Database;
  private readonly events: Batcher<EventWrite, SaveOutcome>;
  private readonly rejections: Batcher<NewRejection, void>;
  private readonly writeSuppressed: (counts: SuppressedRejections[]) => void;
  private readonly outbox: ReturnType<typeof prepareOutbox>;
  private readonly finishes: Batcher<FinishWrite, void>;
  private closed = false;
  /** The last write failure, cleared by the next successful write: what /readyz reports. */
  private writeFailure: string | undefined;

  constructor(options: SqliteOptions & { maxBatch?: number }) {
    this.db = openDatabase(options);
    const maxBatch = options.maxBatch ?? 256;
    this.events = createBatcher(prepareEventWriter(this.db), { maxBatch });
    this.rejections = createBatcher(prepareRejectionWriter(this.db), { maxBatch });
    this.writeSuppressed = prepareSuppressedWriter(this.db);
    this.outbox = prepareOutbox(this.db);
    // Sends that finish in the same turn share one commit (one fsync) instead of paying one each.
    const finishAll = this.db.transaction((items: FinishWrite[]) =>
      items.map((f) => this.outbox.finish(f.delivery, f.owner, f.attempt, f.next)));
    this.finishes = createBatcher((items: FinishWrite[]) => finishAll.immediate(items), { maxBatch });
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

  async addSuppressed(counts: SuppressedRejections[]): Promise<void> {
    this.assertOpen();
    if (counts.length === 0) return;
    // After the rows they count: a kept row still queued in the batcher is written first.
    await this.rejections.flush();
    try {
      this.writeSuppressed(counts);
    } catch (err) {
      toStorageError(err);
    }
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

function describeCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

/** Any database failure on the write path means "not stored": never a 1000. */
function toStorageError(err: unknown): never {
  const code = (err as { code?: unknown }).code;
  throw new StorageUnavailableError(`store unavailable${typeof code === 'string' ? ` (${code})` : ''}`, { cause: err });
}
