import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import type { Logger } from '../../log';
import { describeFailure, toStoreError, type Driver, type FailureKinds } from '../driver';
import { DatabaseLostError, StoreClosedError, StoreNotFoundError, StoreUnavailableError } from '../errors';
import { run, runScriptSync, type Dialect, type Script, type Statement } from '../sql';
import type { StoreOptions } from '../store';
import { Checkpointer } from './checkpointer';
import { openDatabase } from './database';
import { ReadThread } from './reader';
import { PreparedStatements } from './statements';
import { WalSync } from './wal-sync';
import { WalWriteBack } from './wal-write-back';

/** What /healthz, /readyz, the log and the alert say when the file under the open handle is gone. */
export const DATABASE_LOST_REASON = 'database file was removed or replaced';
/**
 * The same for SQLite's write-ahead log and its index. Commits go to the -wal until a checkpoint copies them into
 * the main file: one removed under the open handle takes every later commit (and any not yet copied) with it at the
 * next restart, and a second process opening the folder would start a log of its own beside it.
 */
export const DATABASE_WAL_LOST_REASON = 'database -wal file was removed or replaced';
export const DATABASE_SHM_LOST_REASON = 'database -shm file was removed or replaced';
/** A flush of the -wal failed: whether its commits reached the disk is unknown, so nothing is acknowledged any more. */
export const DATABASE_SYNC_FAILED_REASON = 'database -wal file could not be flushed to disk';
/** Without traffic a removed file is still noticed (log, alert, probes) within this long. */
const FILE_CHECK_INTERVAL_MS = 1_000;
/** How long a job lock is held without renewal: a process that died holding one blocks the job this long. */
const JOB_LOCK_MS = 30_000;
/**
 * The longest one statement may block the event loop waiting for another process's write lock (SQLite's
 * busy_timeout) once the daemon serves. Several writes can meet a held lock in one turn; together they stay well
 * under the 100 ms a health check may take. Longer waits are the group commit's asynchronous retries.
 */
const SYNC_BUSY_WAIT_MS = 10;

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  forUpdate: '',
  forUpdateSkipLocked: '',
  forShare: '',
  greatest: 'max',
  least: 'min',
  inList: 'IN (SELECT value FROM json_each(?))',
  list: (values) => JSON.stringify(values),
  byteOrder: '',
  noIndex: '+',
  lockNames: undefined,
  notify: undefined,
};

interface FileIdentity {
  dev: bigint;
  ino: bigint;
}

/** A file SQLite opens beside the database: checked like it, once it exists (SQLite makes them on first use). */
interface SideFile {
  path: string;
  reason: string;
  /** Undefined until the file is first seen: SQLite may not have made it yet when the store opens. */
  identity: FileIdentity | undefined;
}

const failures: FailureKinds = {
  isBusy: (err) => codeOf(err)?.startsWith('SQLITE_BUSY') ?? false,
  // The file is gone: no item can be written to it.
  failsAll: (err) => err instanceof DatabaseLostError,
  codeOf,
};

function codeOf(err: unknown): string | undefined {
  if (err instanceof StoreUnavailableError) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The embedded store's driver: one SQLite file in WAL mode, shared safely by several processes on one host.
 * Scripts run synchronously inside one IMMEDIATE transaction (writes) or a deferred one (reads, for a consistent
 * snapshot); statements are prepared once per SQL text.
 */
export class SqliteDriver implements Driver {
  readonly kind = 'sqlite';
  readonly d = sqliteDialect;
  readonly failures = failures;
  readonly batchesInFlight = 4;
  statements = 0;
  /** The open handle: for tests that inject faults under the store (test/support/sqlite.ts). */
  readonly db: Database.Database;
  private readonly prepared: PreparedStatements;
  /**
   * Where read scripts run, off the event loop: started by the first read, so a process nobody reads from (ingest
   * only, no dashboard or scrape) keeps no second thread. Never in memory or for the CLI (nothing to keep serving).
   */
  private reader: ReadThread | undefined;
  private readonly readsOnThread: boolean;
  private readonly inWrite: Database.Transaction<(script: () => Script<unknown>) => unknown>;
  private readonly inRead: Database.Transaction<(script: () => Script<unknown>) => unknown>;
  private readonly file: FileIdentity | undefined;
  /** The -wal and -shm files; none in memory. */
  private readonly sideFiles: SideFile[];
  private readonly fileWatch: NodeJS.Timeout | undefined;
  private lost: string | undefined;
  /** Whether the lost file is the -wal while the database file is still there: its commits can be copied home. */
  private walLost = false;
  private readonly walWriteBack: WalWriteBack;
  private closing: Promise<void> | undefined;
  /** store.synchronous FULL: commits are flushed off the event loop before they count (see wal-sync.ts). */
  private readonly walSync: WalSync | undefined;
  private readonly checkpointer: Checkpointer | undefined;
  /** Who holds job locks taken through this driver: unique per store, so two stores on one file are two holders. */
  private readonly jobOwner = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly jobsHeld = new Set<string>();

  constructor(
    private readonly options: StoreOptions,
    /** For what only the driver sees (a removed -wal copied home); the CLI and tests may leave it out. */
    private readonly logger?: Logger,
  ) {
    if (options.mustExist && options.path !== ':memory:' && !fs.existsSync(options.path)) {
      throw new StoreNotFoundError(`no database at ${options.path}`);
    }
    const durable = options.synchronous !== 'NORMAL' && options.path !== ':memory:' && options.path !== '';
    // FULL's guarantee, kept by flushing the -wal ourselves before a commit counts: SQLite's own FULL flushes on
    // the committing thread, the event loop.
    this.db = openDatabase({ ...options, synchronous: 'NORMAL' });
    this.walSync = durable ? new WalSync(`${options.path}-wal`) : undefined;
    this.walWriteBack = new WalWriteBack(this.db, options.path, (err) => describeFailure(err, failures), logger);
    this.file = identify(options.path);
    this.prepared = new PreparedStatements(this.db);
    this.checkpointer = this.file && !options.mustExist ? Checkpointer.start(options.path) : undefined;
    this.readsOnThread = this.file !== undefined && !options.mustExist;
    // The checkpoint thread copies the -wal home; the store's own connection does it only without that thread.
    if (this.checkpointer) this.db.pragma('wal_autocheckpoint = 0');
    // The -wal first: after a commit, checkFile(true) looks at it alone.
    this.sideFiles = this.file
      ? [
          { path: `${options.path}-wal`, reason: DATABASE_WAL_LOST_REASON, identity: undefined },
          { path: `${options.path}-shm`, reason: DATABASE_SHM_LOST_REASON, identity: undefined },
        ]
      : [];
    this.checkFile();
    const runIn = (script: () => Script<unknown>): unknown => runScriptSync(script(), (s) => this.execute(s));
    this.inWrite = this.db.transaction(runIn);
    this.inRead = this.db.transaction(runIn);
    if (this.file) {
      this.fileWatch = setInterval(() => {
        if (this.checkFile() !== undefined) this.writeBackLostLog();
      }, FILE_CHECK_INTERVAL_MS);
      this.fileWatch.unref();
    }
  }

  /** On the read thread while it runs; on the store's connection (holding the event loop) where there is none. */
  read<R>(script: () => Script<R>): Promise<R> {
    if (this.reader === undefined && this.readsOnThread && this.closing === undefined) {
      this.reader = ReadThread.start(this.options.path, this.options.busyTimeoutMs ?? 5_000);
    }
    const reader = this.reader;
    if (reader === undefined || reader.failed !== undefined) return this.readQuick(script);
    return this.readOn(reader, script);
  }

  /** On the store's own connection: small indexed reads that must not wait behind a listing on the thread. */
  readQuick<R>(script: () => Script<R>): Promise<R> {
    return this.guard(() => this.inRead.deferred(script) as R);
  }

  private async readOn<R>(reader: ReadThread, script: () => Script<R>): Promise<R> {
    this.assertOpen();
    try {
      return await reader.run(script(), () => {
        this.statements += 1;
      });
    } catch (err) {
      throw toStoreErrorOrRule(err);
    }
  }

  async write<R>(script: () => Script<R>): Promise<R> {
    const committed = await this.guard(() => this.inWrite.immediate(script) as R);
    await this.durable();
    return committed;
  }

  /** Commits at once (synchronously, so commits keep their order), and resolves once the commit is on disk. */
  writeRaw<R>(script: () => Script<R>): Promise<R> {
    this.assertOpen();
    let committed: R;
    try {
      committed = this.inWrite.immediate(script) as R;
    } catch (err) {
      return Promise.reject(err);
    }
    return this.durable().then(() => committed);
  }

  /** Resolves once everything committed so far is on disk (store.synchronous FULL); at once with NORMAL. */
  private async durable(): Promise<void> {
    if (!this.walSync) return;
    try {
      await this.walSync.durable();
    } catch (err) {
      this.checkFile();
      throw new DatabaseLostError('store unavailable; send again later', {
        code: 'DATABASE_SYNC_FAILED',
        cause: err,
      });
    }
  }

  /** The same write, returning synchronously: only for the alert that the file is lost (saveEventDespiteLoss). */
  writeNow<R>(script: () => Script<R>): R {
    return this.inWrite.immediate(script) as R;
  }

  /**
   * Why the open database is no longer the file at store.path (or its -wal or -shm no longer the one SQLite
   * uses), or undefined while they are (one stat each: same device and inode as when first seen). Sticky: a
   * file put back is not trusted again until a restart opens it afresh. `onlyLog` looks at the -wal alone: after
   * a commit, the one file the commit went to.
   */
  checkFile(onlyLog = false): string | undefined {
    if (this.lost !== undefined || !this.file) return this.lost;
    const reason = this.walSync?.failed ? DATABASE_SYNC_FAILED_REASON : this.findLostFile(this.file, onlyLog);
    if (reason === undefined) return undefined;
    this.lost = reason;
    this.walLost = reason === DATABASE_WAL_LOST_REASON;
    const onLost = this.options.onLost;
    if (onLost) setImmediate(() => onLost(reason));
    return this.lost;
  }

  /** The reason for the first of the database file, its -wal and its -shm that is not the file opened. */
  private findLostFile(file: FileIdentity, onlyLog: boolean): string | undefined {
    if (!onlyLog && !sameFile(identify(this.options.path, true), file)) return DATABASE_LOST_REASON;
    // A closed handle uses neither (SQLite removes the -wal as the last connection closes): it fails on its own.
    if (!this.db.open) return undefined;
    for (const side of onlyLog ? this.sideFiles.slice(0, 1) : this.sideFiles) {
      const now = identify(side.path, true);
      // Not made yet (or not yet seen): the first file SQLite puts there is the one this handle uses.
      if (side.identity === undefined) side.identity = now;
      else if (!sameFile(now, side.identity)) return side.reason;
    }
    return undefined;
  }

  /**
   * After a group commit: the -wal looked at again, as it may have been removed while the group committed (then
   * the group went with it). If so, what it held is copied into the database file before anyone is answered, and
   * the group's events get the error that keeps their callers from a 1000.
   */
  lostAfterCommit(): DatabaseLostError | undefined {
    if (this.checkFile(true) === undefined) return undefined;
    this.writeBackLostLog();
    return this.lostError();
  }

  /** Copies the removed -wal home (see WalWriteBack), while the -wal is what was lost and the store is open. */
  private writeBackLostLog(): void {
    if (this.walLost && this.closing === undefined) this.walWriteBack.run();
  }

  get lostReason(): string | undefined {
    return this.checkFile();
  }

  /** The error a write gets once the file is lost (checked once per group commit, not per callback). */
  lostError(): DatabaseLostError | undefined {
    if (this.checkFile() === undefined) return undefined;
    return new DatabaseLostError('store unavailable; send again later', { code: 'DATABASE_FILE_LOST' });
  }

  async ping(): Promise<void> {
    this.assertOpen();
    const lost = this.checkFile();
    if (lost !== undefined) throw new DatabaseLostError(lost, { code: 'DATABASE_FILE_LOST' });
    try {
      this.prepared.prepare('SELECT 1').get();
    } catch (err) {
      toStoreError(err, failures);
    }
  }

  /** SQLite tells no one of another process's writes: the worker polls (nextWakeAt and its interval). */
  onNewWork(_listener: () => void): () => void {
    return () => undefined;
  }

  /**
   * Until the daemon serves (migrations, every component starting), SQLite's busy handler waits up to
   * busyTimeoutMs, as nothing is being answered yet: with 10 ms a second process starting on the same file beside
   * the first could fail with "database is locked". From here on that handler, which sleeps on the event loop,
   * only bridges other processes' short commits.
   */
  markServing(): void {
    this.db.pragma(`busy_timeout = ${Math.min(SYNC_BUSY_WAIT_MS, this.options.busyTimeoutMs ?? SYNC_BUSY_WAIT_MS)}`);
  }

  /**
   * One host: the lock is a row with an owner and an expiry, renewed while the job runs, so pm2 cluster workers
   * (or a CLI prune next to the daemon) never run the same job at once, and a holder that died frees it on expiry.
   */
  async runExclusive<T>(name: string, job: () => Promise<T>): Promise<T | undefined> {
    this.assertOpen();
    if (this.jobsHeld.has(name)) return undefined;
    const now = Date.now();
    const taken = await this.write(() => takeJobLock(name, this.jobOwner, now, now + JOB_LOCK_MS));
    if (!taken) return undefined;
    this.jobsHeld.add(name);
    const renewal = setInterval(() => {
      // A busy moment: the next renewal (well before expiry) tries again.
      this.write(() => renewJobLock(name, this.jobOwner, Date.now() + JOB_LOCK_MS)).catch(() => undefined);
    }, JOB_LOCK_MS / 3);
    renewal.unref();
    try {
      return await job();
    } finally {
      clearInterval(renewal);
      this.jobsHeld.delete(name);
      // Left to expire when this fails: another process takes it after JOB_LOCK_MS.
      if (this.closing === undefined)
        await this.write(() => releaseJobLock(name, this.jobOwner)).catch(() => undefined);
    }
  }

  describe(err: unknown): string {
    return describeFailure(err, failures);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.fileWatch) clearInterval(this.fileWatch);
      this.walWriteBack.stop();
      await this.checkpointer?.stop();
      await this.reader?.stop();
      this.db.close();
      this.walSync?.close();
    })();
    return this.closing;
  }

  assertOpen(): void {
    if (this.closing !== undefined) throw new StoreClosedError();
  }

  private guard<R>(work: () => R): Promise<R> {
    this.assertOpen();
    try {
      return Promise.resolve(work());
    } catch (err) {
      return Promise.reject(toStoreErrorOrRule(err));
    }
  }

  private execute(s: Statement): unknown {
    this.statements += s.op === 'rows' ? s.source.rows.length : 1;
    return this.prepared.execute(s);
  }
}

function toStoreErrorOrRule(err: unknown): unknown {
  try {
    return toStoreError(err, failures);
  } catch (mapped) {
    return mapped;
  }
}

function sameFile(a: FileIdentity | undefined, b: FileIdentity): boolean {
  return a !== undefined && a.dev === b.dev && a.ino === b.ino;
}

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

function* takeJobLock(name: string, owner: string, now: number, until: number): Script<boolean> {
  const changed = yield* run(
    `INSERT INTO job_locks (name, owner, until_ms) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until_ms = excluded.until_ms
     WHERE job_locks.owner = excluded.owner OR job_locks.until_ms < ?`,
    [name, owner, until, now],
  );
  return changed === 1;
}

function* renewJobLock(name: string, owner: string, until: number): Script<void> {
  yield* run('UPDATE job_locks SET until_ms = ? WHERE name = ? AND owner = ?', [until, name, owner]);
}

function* releaseJobLock(name: string, owner: string): Script<void> {
  yield* run('DELETE FROM job_locks WHERE name = ? AND owner = ?', [name, owner]);
}
