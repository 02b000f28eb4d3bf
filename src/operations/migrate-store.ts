import {
  copyStore,
  NOT_COPIED,
  openPostgresMigrationTarget,
  openSqliteMigrationSource,
  type CopyProgress,
  type MigrationSource,
} from '../store';
import { MigrationRefusedError, StoreNotFoundError, StoreUnavailableError } from '../store/errors';
import { NotFoundError, RefusedError } from './errors';

export type { CopyProgress } from '../store';

export interface MigrateStoreOptions {
  /** The SQLite file (store.path). */
  from: string;
  /** The PostgreSQL database: may hold a password, never echoed. */
  to: string;
  batchSize: number;
  onProgress: (progress: CopyProgress) => void;
  /** A process that published metrics on the source within this long is a daemon still running on it: refused. */
  writerStaleAfterMs: number;
}

/** The tables not copied, each daemon writing them again: what the CLI names after a copy. */
export const TABLES_NOT_COPIED: readonly string[] = Object.keys(NOT_COPIED);

/**
 * Copies the SQLite store into PostgreSQL, page by page; run again, it continues where it stopped and copies nothing
 * twice. Resolves with the rows inserted per table. Whatever cannot be copied is refused, named (RefusedError).
 */
export async function migrateStore(options: MigrateStoreOptions): Promise<Map<string, number>> {
  const source = openSource(options.from);
  try {
    const target = await openPostgresMigrationTarget(options.to).catch(describeTargetFailure);
    try {
      return await copyStore(source, target, options).catch(describeTargetFailure);
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

function openSource(path: string): MigrationSource {
  try {
    return openSqliteMigrationSource(path);
  } catch (err) {
    if (err instanceof StoreNotFoundError) {
      throw new NotFoundError(`no database at ${path}: point store.path (SKYRELAY_DB_PATH) at the SQLite file to copy`);
    }
    throw err;
  }
}

function describeTargetFailure(err: unknown): never {
  // A target holding data of its own, a table or column it does not know, rows PostgreSQL refuses, a daemon still on
  // the file: each named in the message, nothing dropped.
  if (err instanceof MigrationRefusedError) throw new RefusedError(err.message);
  if (err instanceof StoreUnavailableError) {
    throw new RefusedError(
      `could not write to the PostgreSQL database (${err.code ?? 'unavailable'}); ` +
        'run migrate-store again to continue where it stopped',
    );
  }
  throw err;
}
