import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations';

export interface SqliteOptions {
  path: string;
  /** How long a writer waits for another process's lock before giving up. */
  busyTimeoutMs?: number;
  /** FULL survives power loss; NORMAL only process crashes. */
  synchronous?: 'FULL' | 'NORMAL';
}

/** Opens (creating folder and schema on first start) the SQLite file in WAL mode. */
export function openDatabase(options: SqliteOptions): Database.Database {
  if (options.path !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
  const db = new Database(options.path);
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
  // 64 MiB of pages: the b-trees a callback touches at random places (its identity, its payout) stay in memory.
  db.pragma('cache_size = -65536');
  // After a burst the -wal is cut back to this when it starts over, not left at its largest.
  db.pragma('journal_size_limit = 67108864');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}
