import { ConfigError, loadConfig } from '../config/load';
import type { Config } from '../config/schema';
import { FilterError } from '../admin/filters';
import { createLogger } from '../log';
import { openStore, type Store } from '../store';
import { StoreNotFoundError } from '../store/errors';
import { escapeControls } from './format';
import { dedupRules } from '../ingest/dedup';

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
 * Opens the daemon's store (the same one the daemon and the admin API use). SQLite's WAL lets this run next to
 * the daemon; busyTimeoutMs makes a write (replay, prune) wait its turn instead of failing. Never creates an
 * empty database where none is.
 */
export async function openConfiguredStore(config: Config): Promise<Store> {
  try {
    return await openStore(
      {
        rules: dedupRules,
        path: config.store.path,
        url: config.store.url,
        poolSize: config.store.poolSize,
        busyTimeoutMs: config.store.busyTimeoutMs,
        synchronous: config.store.synchronous,
        mustExist: true,
      },
      createLogger({ level: 'silent' }),
    );
  } catch (err) {
    if (err instanceof StoreNotFoundError) {
      throw new CommandFailed(
        `no database at ${config.store.path}: start the daemon once, or point store.path (SKYRELAY_DB_PATH) at it`,
      );
    }
    throw err;
  }
}

/** Runs `work` with the store open, closing it however the work ends. */
export async function withStore<T>(config: Config, work: (store: Store) => T | Promise<T>): Promise<T> {
  const store = await openConfiguredStore(config);
  try {
    return await work(store);
  } finally {
    await store.close();
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
