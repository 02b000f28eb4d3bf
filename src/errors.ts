/**
 * The store's errors: it could not read or commit. Only the HTTP layer
 * decides what they mean to a client (src/ingest/rejections.ts: 503).
 */

/** The store could not commit (disk full, read-only, locked too long). */
export class StorageUnavailableError extends Error {
  /** The database's own code (SQLITE_BUSY, SQLITE_FULL): for the log and /readyz, never for the client's answer. */
  readonly code: string | undefined;
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.name = new.target.name;
    this.code = options?.code;
  }
}

/** Another connection held the write lock for longer than store.busyTimeoutMs. */
export class StoreBusyError extends StorageUnavailableError {}

/**
 * The database file at store.path was deleted or replaced under the open
 * handle: writes would still succeed, into a file nobody will open again.
 */
export class DatabaseLostError extends StorageUnavailableError {}
