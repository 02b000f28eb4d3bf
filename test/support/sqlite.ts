import Database from 'better-sqlite3';
import type { Store, StoreOptions } from '../../src/store';
import { migrate } from '../../src/store/sqlite/migrations';
import { SqliteStore } from '../../src/store/sqlite/store';

/**
 * The one place tests reach under the store on purpose: fault injection (PRAGMA query_only, a held write lock,
 * a full disk), an old-schema database for the migration test, fixtures the interface has no verb for, and the
 * bench seed. Results are read through the Store interface, as the CLI and the admin API do.
 */

/** The open SQLite handle under a store the daemon opened. */
export function sqliteHandle(store: Store): Database.Database {
  if (!(store instanceof SqliteStore)) throw new Error(`not a SQLite store (kind: ${store.kind})`);
  return store.db;
}

/** A SQLite store on `file`, as openStore would give it. */
export function openSqliteStore(file: string, options: Partial<StoreOptions> = {}): SqliteStore {
  return new SqliteStore({ path: file, synchronous: 'NORMAL', ...options });
}

/** A connection under the store. */
export type SqliteHandle = Database.Database;

/**
 * A plain connection straight to the file, beside any store: another process holding BEGIN IMMEDIATE, rows the
 * interface has no verb for (fixtures, forensic columns), or a file the migrations have not touched.
 */
export function openSqliteFile(file: string, options: Database.Options = {}): SqliteHandle {
  return new Database(file, options);
}

/** Migrates `db` up to schema version `upTo` (all when omitted): an old release's database. */
export function migrateSqlite(db: Database.Database, upTo?: number): number {
  return migrate(db, upTo);
}
