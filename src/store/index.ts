import type Database from 'better-sqlite3';
import type { Logger } from '../log';
import { assembleStore } from './assemble';
import { PostgresDriver } from './postgres/driver';
import { SqliteDriver } from './sqlite/driver';
import type { Store, StoreOptions } from './store';

export type { Store, StoreOptions } from './store';
export type { DedupRules } from './context';

/** The SQLite handle under each SQLite store opened here: only for tests that inject faults under the store. */
const handles = new WeakMap<Store, Database.Database>();

/**
 * Opens the configured store: PostgreSQL when store.url is set (postgres://...), else the SQLite file at
 * store.path. Migrations run here, before anything is served. The url is never logged: it may hold a password.
 */
export async function openStore(options: StoreOptions, logger: Logger): Promise<Store> {
  if (options.url === undefined) {
    const store = openSqliteStore(options, logger);
    logger.debug({ path: options.path }, 'store opened (SQLite)');
    return store;
  }
  const driver = await PostgresDriver.open({
    url: options.url,
    poolSize: options.poolSize,
    busyTimeoutMs: options.busyTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
    pingTimeoutMs: options.pingTimeoutMs,
    onConnectionError: (err) =>
      logger.warn({ code: (err as { code?: unknown }).code, message: err.message }, 'PostgreSQL connection lost'),
  });
  logger.debug('store opened (PostgreSQL)');
  return assembleStore(driver, options.rules, options);
}

/**
 * A SQLite store, opened synchronously: the file is created (with its folder) and migrated on first open. `logger`
 * takes what only the driver sees (a removed -wal copied back into the database file).
 */
export function openSqliteStore(options: StoreOptions, logger?: Logger): Store {
  const driver = new SqliteDriver(options, logger);
  const store = assembleStore(driver, options.rules, options);
  handles.set(store, driver.db);
  return store;
}

/** The open SQLite handle under a store openSqliteStore gave; undefined for any other store. */
export function sqliteHandleOf(store: Store): Database.Database | undefined {
  return handles.get(store);
}

export { copyStore, NOT_COPIED, type CopyProgress, type MigrationSource, type MigrationTarget } from './migration';
/** The SQLite file a `skyrelay migrate-store` copies from. */
export { openSqliteMigrationSource } from './sqlite/export';
/** The PostgreSQL database it copies into (its schema migrated first). */
export { openPostgresMigrationTarget } from './postgres/import';

/** The store as the daemon's first component (so it closes last): opened, and its schema brought up to date, at start. */
export function storeComponent(options: StoreOptions, logger: Logger) {
  let opened: Store | undefined;
  const onLost = (reason: string): void => {
    logger.error({ path: options.path, reason }, 'database lost: callbacks get 503 until skyrelay restarts');
    options.onLost?.(reason);
  };
  return {
    name: 'store',
    get store(): Store {
      if (!opened) throw new Error('store did not open');
      return opened;
    },
    start: async () => void (opened = await openStore({ ...options, onLost }, logger)),
    stop: () => opened?.close(),
  };
}
