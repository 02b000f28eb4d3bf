import type { Logger } from '../log';
import { StoreNotAvailableError } from './errors';
import { SqliteStore } from './sqlite/store';
import type { Store, StoreOptions } from './store';

export type { Store, StoreOptions } from './store';

/**
 * Opens the configured store: PostgreSQL when store.url is set (postgres://...), else the SQLite file at
 * store.path. Migrations run here, before anything is served. The url is never logged: it may hold a password.
 */
export async function openStore(options: StoreOptions, logger: Logger): Promise<Store> {
  if (options.url !== undefined) {
    // The PostgreSQL store (src/store/postgres/) plugs in here when it is merged.
    throw new StoreNotAvailableError('store.url (PostgreSQL) is not available in this build; use store.path (SQLite)');
  }
  const store = new SqliteStore(options);
  logger.debug({ path: options.path }, 'store opened (SQLite)');
  return Promise.resolve(store);
}
