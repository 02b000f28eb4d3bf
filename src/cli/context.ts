import { ConfigError, loadConfig } from '../config/load';
import type { Config } from '../config/schema';
import { openOperations, type Operations } from '../operations';
import { FilterError, ReplayCountChangedError, SilenceInputError } from '../operations/errors';
import { ReplayTooBroadError } from '../operations/replay';
import { escapeControls } from './format';

/** Exit codes every command keeps: 0 done, 1 failed, 2 the command line itself is wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** `skyrelay ledger`: the day's counts do not balance (the ledger is printed all the same). */
export const EXIT_UNBALANCED = 3;

/** The command did what was asked and says its verdict by its exit code alone (it printed what it found). */
export class QuietExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = 'QuietExit';
  }
}

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

/** Every error a command ends with, in one place: the exit code its type means. */
export function exitCodeOf(err: unknown): number {
  return err instanceof UsageError || err instanceof FilterError || err instanceof SilenceInputError
    ? EXIT_USAGE
    : EXIT_FAILED;
}

/** What the CLI says of an error, in its own words where the operations name an API field. */
export function messageOf(err: unknown): string {
  if (err instanceof ReplayTooBroadError) {
    return '--delivered needs --since or --destination: every delivered message was received once already';
  }
  if (err instanceof ReplayCountChangedError) return `${err.message}; run the command again`;
  if (err instanceof SilenceInputError) return err.problems.join('\n');
  return err instanceof Error ? err.message : String(err);
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

/** Runs `work` with the operations over the daemon's store, closing it however the work ends. */
export async function withOperations<T>(config: Config, work: (operations: Operations) => T | Promise<T>): Promise<T> {
  const operations = await openOperations(config);
  try {
    return await work(operations);
  } finally {
    await operations.close();
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
