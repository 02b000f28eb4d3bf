import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { ConfigError, loadConfig } from '../config/load';
import type { Config } from '../config/schema';
import { FilterError } from '../admin/filters';
import { openDatabase } from '../store/sqlite';
import { escapeControls } from './format';

/** Exit codes every command keeps: 0 done, 1 failed, 2 the command line itself is wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The command line is wrong (conflicting flags, a bad filter value). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command ran and could not do what was asked (invalid config, unknown id, refused callback). */
export class CommandFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandFailed';
  }
}

export function exitCodeOf(err: unknown): number {
  return err instanceof UsageError || err instanceof FilterError ? EXIT_USAGE : EXIT_FAILED;
}

/** The daemon's configuration, from the same node-config sources (NODE_CONFIG_DIR, NODE_ENV, env, NODE_CONFIG). */
export function loadCliConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandFailed(err.message);
    throw err;
  }
}

/**
 * Opens the daemon's SQLite file. WAL lets this run next to the daemon;
 * busy_timeout makes a write (replay, prune) wait its turn instead of failing.
 */
export function openConfiguredDatabase(config: Config): Database.Database {
  const file = config.store.path;
  if (file !== ':memory:' && !fs.existsSync(file)) {
    throw new CommandFailed(
      `no database at ${file}: start the daemon once, or point store.path (SKYRELAY_DB_PATH) at it`,
    );
  }
  return openDatabase({ path: file, busyTimeoutMs: config.store.busyTimeoutMs, synchronous: config.store.synchronous });
}

/** Runs `work` with the database open, closing it however the work ends. */
export async function withDatabase<T>(config: Config, work: (db: Database.Database) => T | Promise<T>): Promise<T> {
  const db = openConfiguredDatabase(config);
  try {
    return await work(db);
  } finally {
    db.close();
  }
}

/** Every line the CLI prints goes through here, escaped: lines quote SkyPay's and receivers' text. */
export function print(line = ''): void {
  process.stdout.write(`${escapeControls(line)}\n`);
}

/** Turns a FilterError from shared parsing into a usage error naming the flag. */
export function parseFlag<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof FilterError) throw new UsageError(err.message);
    throw err;
  }
}
