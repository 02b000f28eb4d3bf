/**
 * The store's own errors, one class per concept. None knows HTTP: the ingest path, readiness and the admin API
 * decide what status each means (all StoreUnavailableErrors are a 503 there).
 */

/** Could not read or commit (disk full, read-only, connection refused). Nothing asked was stored. */
export class StoreUnavailableError extends Error {
  /** The database's own code (SQLITE_FULL, ECONNREFUSED): for the log and /readyz, never for a client's answer. */
  readonly code: string | undefined;
  constructor(message: string, options?: { cause?: unknown; code?: string | undefined }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options?.code;
  }
}

/** Another connection held the write lock for longer than store.busyTimeoutMs. */
export class StoreBusyError extends StoreUnavailableError {}

/**
 * The database file at store.path was deleted or replaced under the open handle: writes would still succeed, into
 * a file nobody will open again. Permanent until a restart opens the file afresh.
 */
export class DatabaseLostError extends StoreUnavailableError {}

/**
 * A rule of the store refused what was asked (a confirmed count changed, a silence had already ended): thrown on
 * purpose inside a transaction script, so it passes through as it is, never as "store unavailable".
 */
export class StoreRuleError extends Error {}

/**
 * Another process stored something this transaction assumed absent (a payout first seen in both at once): the
 * transaction is rolled back and written again, which then finds it. Only PostgreSQL's concurrent writers meet it.
 */
export class WriteRaceError extends Error {}

/** The store was used after close(). */
export class StoreClosedError extends StoreUnavailableError {
  constructor() {
    super('store is closed');
  }
}

/** There is no database to open where the config points (and the caller asked not to create one). */
export class StoreNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreNotFoundError';
  }
}

/**
 * A bulk replay confirmed for one count found another: deliveries finished or a `since` window moved between
 * asking and confirming. Nothing was requeued.
 */
export class ReplayCountChangedError extends StoreRuleError {
  constructor(
    readonly confirmed: number,
    readonly count: number,
  ) {
    super(`the number of matching deliveries changed from ${confirmed} to ${count}; nothing was replayed`);
    this.name = 'ReplayCountChangedError';
  }
}

/**
 * `skyrelay migrate-store` stopped before copying something it could not copy faithfully. Nothing is dropped: what
 * was committed stays, and once the cause is gone the same command continues from there.
 */
export class MigrationRefusedError extends StoreRuleError {}

/**
 * `skyrelay migrate-store` found data in the target PostgreSQL database that no earlier run of it copied: merging
 * two deployments could collide on attempt ids, so it copies only into a fresh database (or continues its own copy).
 */
export class MigrationTargetNotEmptyError extends MigrationRefusedError {
  constructor(readonly table: string) {
    super(`the target database already holds ${table} that migrate-store did not copy: migrate into a fresh database`);
    this.name = 'MigrationTargetNotEmptyError';
  }
}

/**
 * The source holds tables or columns the copy does not know (a newer release's, or someone's own): copying the rest
 * would leave them behind without a word. Names each (`table notes`, `column events.note`); nothing was copied.
 */
export class MigrationUnknownDataError extends MigrationRefusedError {
  constructor(readonly unknown: readonly string[]) {
    super(
      `migrate-store does not know how to copy ${unknown.join(', ')}: nothing was copied ` +
        '(a file from a newer skyrelay needs that release to copy it; remove what you added yourself, then run again)',
    );
    this.name = 'MigrationUnknownDataError';
  }
}

/** One source row PostgreSQL would not take: its key as `column=value` pairs, and PostgreSQL's reason. */
export interface RefusedRow {
  row: string;
  reason: string;
}

/** How many refused rows a message lists; the rest are counted. */
const LISTED_ROWS = 10;

/**
 * PostgreSQL would not take some rows of a page (a value out of its type's range, text where a number belongs, two
 * rows one key): that page was not committed, the pages before it were. Fix or remove the rows named in the SQLite
 * file and run again to continue.
 */
export class MigrationRowsRefusedError extends MigrationRefusedError {
  constructor(
    readonly table: string,
    readonly rows: readonly RefusedRow[],
  ) {
    const listed = rows.slice(0, LISTED_ROWS).map((r) => `${r.row}: ${r.reason}`);
    if (rows.length > LISTED_ROWS) listed.push(`and ${rows.length - LISTED_ROWS} more`);
    super(
      `PostgreSQL refused ${rows.length} row${rows.length === 1 ? '' : 's'} of ${table}; the copy stopped there ` +
        `(everything before them is committed, their page is not):\n  ${listed.join('\n  ')}\n` +
        'fix or delete them in the SQLite file, then run migrate-store again: it continues from there',
    );
    this.name = 'MigrationRowsRefusedError';
  }
}

/** A process that published its metrics into the source recently: a daemon that may still be writing to it. */
export interface SourceWriter {
  instance: string;
  pid: number;
  lastSeenMs: number;
}

/**
 * A daemon still runs on the SQLite file: a row it changes after its table was copied would not be copied again,
 * so the copy does not start.
 */
export class MigrationSourceInUseError extends MigrationRefusedError {
  constructor(
    readonly writers: readonly SourceWriter[],
    readonly staleAfterMs: number,
  ) {
    const now = Date.now();
    const named = writers.map(
      (w) => `${w.instance} (pid ${w.pid}, last seen ${Math.max(0, Math.round((now - w.lastSeenMs) / 1000))} s ago)`,
    );
    super(
      `a daemon is still using the SQLite file: ${named.join(', ')}; stop every daemon on it first, or a row it ` +
        `changes after its table was copied is left behind (a daemon that was killed counts as gone ` +
        `${Math.round(staleAfterMs / 1000)} s after it last published its metrics)`,
    );
    this.name = 'MigrationSourceInUseError';
  }
}

/** A silence asked to expire had already ended (expired by someone, or past its endsAt): nothing was changed. */
export class SilenceEndedError extends StoreRuleError {
  constructor(readonly silenceId: string) {
    super(`silence ${silenceId} has already ended`);
    this.name = 'SilenceEndedError';
  }
}
