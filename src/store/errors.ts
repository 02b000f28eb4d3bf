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

/** A silence asked to expire had already ended (expired by someone, or past its endsAt): nothing was changed. */
export class SilenceEndedError extends StoreRuleError {
  constructor(readonly silenceId: string) {
    super(`silence ${silenceId} has already ended`);
    this.name = 'SilenceEndedError';
  }
}
