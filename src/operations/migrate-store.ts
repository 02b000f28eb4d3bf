import {
  copyStore,
  openPostgresMigrationTarget,
  openSqliteMigrationSource,
  type CopyProgress,
  type MigrationSource,
} from '../store';
import { MigrationTargetNotEmptyError, StoreNotFoundError, StoreUnavailableError } from '../store/errors';
import { NotFoundError, RefusedError } from './errors';

export type { CopyProgress } from '../store';

export interface MigrateStoreOptions {
  /** The SQLite file (store.path). */
  from: string;
  /** The PostgreSQL database: may hold a password, never echoed. */
  to: string;
  batchSize: number;
  onProgress: (progress: CopyProgress) => void;
}

/**
 * Copies the SQLite store into PostgreSQL, page by page; run again, it continues where it stopped and copies nothing
 * twice. Resolves with the rows inserted per table. A target holding data of its own is refused (RefusedError).
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
  if (err instanceof MigrationTargetNotEmptyError) throw new RefusedError(err.message);
  if (err instanceof StoreUnavailableError) {
    throw new RefusedError(
      `could not write to the PostgreSQL database (${err.code ?? 'unavailable'}); ` +
        'run migrate-store again to continue where it stopped',
    );
  }
  throw err;
}
