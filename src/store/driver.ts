import { StoreBusyError, StoreRuleError, StoreUnavailableError } from './errors';
import type { Dialect, Script } from './sql';

/**
 * What a database supplies to the store: running transaction scripts (src/store/sql.ts), its dialect, its locks
 * and its health. Every rule of the store is a script written once above this seam; a driver holds no store rule.
 */
export interface Driver {
  readonly kind: 'sqlite' | 'postgres';
  readonly d: Dialect;
  /**
   * Runs a read-only script in one read transaction (SQLite: on a read thread, off the event loop; PostgreSQL: on a
   * pooled connection, autocommit). The store's ReadLane lets one run at a time per process. It sees every write
   * that resolved before it was called.
   */
  read<R>(script: () => Script<R>): Promise<R>;
  /**
   * The same for a small indexed read that must not queue behind long ones (the delivery worker's next wake-up):
   * SQLite runs it on the store's own connection, PostgreSQL as read().
   */
  readQuick<R>(script: () => Script<R>): Promise<R>;
  /**
   * Runs a script in one write transaction and resolves after COMMIT, with the driver's errors as the store's own
   * (see toStoreError). `script` may be called more than once: a write refused for a lock held elsewhere is retried
   * from the start (SQLite), so a script judges anew each time.
   */
  write<R>(script: () => Script<R>): Promise<R>;
  /**
   * The same for a group commit: fails with the driver's raw error (so the batcher can tell a busy lock, a lost
   * server and one bad item apart), and may be called synchronously more than once per turn.
   */
  writeRaw<R>(script: () => Script<R>): Promise<R>;
  /**
   * Group commits written at once: PostgreSQL 1 (one transaction in flight, the rest queued); SQLite more, as each
   * commits synchronously and only its flush to disk is waited for, which the next commit may share.
   */
  readonly batchesInFlight: number;
  /** How the group commit treats a failed batch (see src/store/group-commit.ts). */
  readonly failures: FailureKinds;
  /** Statements run so far (PostgreSQL: round trips, BEGIN and COMMIT included). */
  readonly statements: number;
  /** Liveness: a trivial read, answered fast. */
  ping(): Promise<void>;
  /** A cluster-wide lock held while `job` runs; undefined without running it when another process holds it. */
  runExclusive<T>(name: string, job: () => Promise<T>): Promise<T | undefined>;
  /** Tells `listener` when another process wrote new work; SQLite never does (its worker polls). */
  onNewWork(listener: () => void): () => void;
  /** Set when the database is gone for good until restart (SQLite's file removed or replaced). */
  readonly lostReason: string | undefined;
  /** The error a group commit's events get once the database is lost (checked once per commit). */
  lostError?(): Error | undefined;
  /**
   * The same, looked at again after a group commit: the commit may have gone to a file removed meanwhile (SQLite's
   * -wal). The driver saves what it can before returning; the group's events get the error, never a 1000.
   */
  lostAfterCommit?(): Error | undefined;
  /** The daemon now answers requests: waits that blocked the event loop while starting are shortened. */
  markServing(): void;
  close(): Promise<void>;
}

export interface FailureKinds {
  /** Another connection holds the lock: try the batch again later. */
  isBusy(err: unknown): boolean;
  /** Whatever the item, this write cannot succeed now: fail the batch without trying each item alone. */
  failsAll(err: unknown): boolean;
  /** The database's own code for the log and /readyz (SQLITE_FULL, ECONNREFUSED, 55P03). */
  codeOf(err: unknown): string | undefined;
}

/**
 * Any database failure means "not done": never a 1000. The message may reach SkyPay, so it names no internal code;
 * the code rides along for the log and /readyz.
 */
export function toStoreError(err: unknown, failures: FailureKinds): never {
  if (err instanceof StoreUnavailableError || err instanceof StoreRuleError) throw err;
  const code = failures.codeOf(err);
  const options = { cause: err, ...(code ? { code } : {}) };
  if (failures.isBusy(err)) throw new StoreBusyError('store busy; send again later', options);
  throw new StoreUnavailableError('store unavailable; send again later', options);
}

/** What /readyz shows of a failure: the code, else the message. */
export function describeFailure(err: unknown, failures: FailureKinds): string {
  return failures.codeOf(err) ?? (err instanceof Error ? err.message : String(err));
}
