import Database from 'better-sqlite3';
import { dedupRules } from '../../src/ingest/dedup';
import { openSqliteStore as openSqlite, sqliteHandleOf, type Store, type StoreOptions } from '../../src/store';
import { migrate } from '../../src/store/sqlite/migrations';

/**
 * The one place tests reach under the store. Results are never read here: tests read them through the Store
 * interface (the daemon's `t.daemon.store`, or withStore in ./store.ts), as the CLI and the admin API do. What is
 * left, and all it may be used for:
 * - fault injection: PRAGMA query_only, a full disk (small-disk.ts), a closed connection, a held write lock
 *   (BEGIN IMMEDIATE from another connection), triggers that fail writes, a cluster lock whose holder died;
 * - an old release's database for the migration test (migrateSqlite up to a version, rows in the old schema),
 *   and that test's check of the migration's own bookkeeping (every carried-over identity gets its digest);
 * - fixtures the interface has no verb for: back-dated rows (an arrival days ago, deliveries already finished or
 *   leased, identities or copies whose event is gone), set straight in the tables;
 * - housekeeping no read can show, counted in the tables: a quiet alert window dropped, copies whose event is gone;
 * - the migrate-store tests' check that every copied table holds the same rows on both sides (copied-tables.ts),
 *   and the rows and tables they add to a file to see what the copy refuses;
 * - the bench seed (test/bench/seed.ts), which writes a million rows faster than the interface would.
 * openSqliteStore is not reaching under: it opens a SQLite Store directly, for unit tests of what runs on one.
 */
/** The open SQLite handle under a store the daemon opened. */
export function sqliteHandle(store: Store): Database.Database {
  const handle = sqliteHandleOf(store);
  if (!handle) throw new Error(`not a SQLite store (kind: ${store.kind})`);
  return handle;
}

/** A SQLite store on `file`, as openStore would give it. */
export function openSqliteStore(file: string, options: Partial<StoreOptions> = {}): Store {
  return openSqlite({ path: file, synchronous: 'NORMAL', rules: dedupRules, ...options });
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
