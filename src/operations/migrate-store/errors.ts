/**
 * Why `skyrelay migrate-store` stops: each refusal names what it could not copy faithfully. The operation hands
 * them to its front as a RefusedError (index.ts).
 */

/**
 * `skyrelay migrate-store` stopped before copying something it could not copy faithfully. Nothing is dropped: what
 * was committed stays, and once the cause is gone the same command continues from there.
 */
export class MigrationRefusedError extends Error {}

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
