import type { Logger } from '../log';
import { openPostgresStore } from './postgres';
import { SqliteStore } from './sqlite/store';
import type { Store, StoreOptions } from './store';

export type { Store, StoreOptions } from './store';

/**
 * Opens the configured store: PostgreSQL when store.url is set (postgres://...), else the SQLite file at
 * store.path. Migrations run here, before anything is served. The url is never logged: it may hold a password.
 */
export async function openStore(options: StoreOptions, logger: Logger): Promise<Store> {
  if (options.url !== undefined) return openPostgresStore({ ...options, url: options.url }, logger);
  const store = new SqliteStore(options, logger);
  logger.debug({ path: options.path }, 'store opened (SQLite)');
  return Promise.resolve(store);
}

export { copyStore, type CopyProgress, type MigrationSource, type MigrationTarget } from './migration';
/** The SQLite file a `skyrelay migrate-store` copies from. */
export { openSqliteMigrationSource } from './sqlite/export';
/** The PostgreSQL database it copies into (its schema migrated first). */
export { openPostgresMigrationTarget } from './postgres/import';
