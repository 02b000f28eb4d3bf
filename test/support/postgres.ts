/**
 * Tests against a real PostgreSQL. The server comes from outside the test
 * process: `npm run test:postgres` and CI start a throwaway one with
 * test/support/postgres-server.sh and set SKYRELAY_TEST_DATABASE_URL (its
 * superuser on the `postgres` database) and SKYRELAY_TEST_PG_DATA (its data
 * folder, which is how stopPostgres/startPostgres find the server they stop).
 * Anyone may instead point SKYRELAY_TEST_DATABASE_URL at a server of their
 * own; the tests that stop the server then do not run.
 *
 * Without SKYRELAY_TEST_DATABASE_URL, `npm test` still passes: every
 * describePostgres suite is left out and the run says so in one line.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { noteRun } from './notes';

/** The script that starts, stops and restarts the test server; it lives in the source tree, next to this file's source. */
export const POSTGRES_SERVER_SCRIPT = path.join(__dirname, '..', '..', '..', 'test', 'support', 'postgres-server.sh');

/** The superuser URL of the test server, or undefined when this run has none. */
export function testDatabaseUrl(): string | undefined {
  const url = process.env['SKYRELAY_TEST_DATABASE_URL']?.trim();
  return url ? url : undefined;
}

/** True when this run's server was started by postgres-server.sh, so stopPostgres/startPostgres can control it. */
export function canStopPostgres(): boolean {
  return testDatabaseUrl() !== undefined && Boolean(process.env['SKYRELAY_TEST_PG_DATA']);
}

export interface TestDatabase {
  /** URL of the new, empty database (same server, user and options as SKYRELAY_TEST_DATABASE_URL). */
  url: string;
  /** Drops the database, ending any connection still open to it. Safe to call twice. */
  drop(): Promise<void>;
}

/**
 * Creates a database of its own for a test or suite (skyrelay_test_<random>),
 * so tests never see each other's tables and need no cleanup between them
 * beyond drop().
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = requireUrl();
  const name = `skyrelay_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      withAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

async function withAdmin<T>(adminUrl: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  // A connection the server ends also emits 'error'; the awaited query already rejects with it.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function requireUrl(): string {
  const url = testDatabaseUrl();
  if (!url) throw new Error('no PostgreSQL for this run: set SKYRELAY_TEST_DATABASE_URL or run npm run test:postgres');
  return url;
}

export interface DescribePostgresOptions {
  /** The suite stops and starts the server (stopPostgres/startPostgres), so it needs one this run started. */
  stopsServer?: boolean;
}

const SKIP_NO_URL = 'PostgreSQL tests skipped: set SKYRELAY_TEST_DATABASE_URL or run npm run test:postgres';
const SKIP_NO_CONTROL =
  'PostgreSQL stop/start tests skipped: SKYRELAY_TEST_DATABASE_URL is a server this run did not start ' +
  '(no SKYRELAY_TEST_PG_DATA); npm run test:postgres starts one they can stop';

/**
 * `describe` for suites that need PostgreSQL. With a server, it is plain
 * describe. Without one, it registers nothing (no pending tests left behind)
 * and the run shows one line saying why and how to run them (notes.ts: after the summary).
 */
export function describePostgres(
  title: string,
  fn: (this: Mocha.Suite) => void,
  options: DescribePostgresOptions = {},
): void {
  if (testDatabaseUrl() === undefined) return noteRun(SKIP_NO_URL);
  if (options.stopsServer && !canStopPostgres()) return noteRun(SKIP_NO_CONTROL);
  describe(title, fn);
}

const execFileP = promisify(execFile);

async function serverCommand(command: 'down' | 'up'): Promise<void> {
  const data = process.env['SKYRELAY_TEST_PG_DATA'];
  if (!data || testDatabaseUrl() === undefined) {
    throw new Error(
      `cannot ${command === 'down' ? 'stop' : 'start'} PostgreSQL: no SKYRELAY_TEST_PG_DATA (run npm run test:postgres)`,
    );
  }
  try {
    await execFileP('bash', [POSTGRES_SERVER_SCRIPT, command, data], { timeout: 60_000 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`postgres-server.sh ${command} failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

/**
 * Stops the test server (pg_ctl stop -m fast: open connections are ended)
 * and keeps its data folder and port. Pools that stay open across this must
 * listen for 'error' on the pool: an idle client whose server went away emits
 * one, and an unheard 'error' ends the test process.
 */
export function stopPostgres(): Promise<void> {
  return serverCommand('down');
}

/** Starts the stopped test server again, on the same port and data, and resolves once it accepts connections. */
export function startPostgres(): Promise<void> {
  return serverCommand('up');
}

/** An outage: stops the server, leaves it down for `ms`, and starts it again. */
export async function stopPostgresFor(ms: number): Promise<void> {
  await stopPostgres();
  await new Promise((resolve) => setTimeout(resolve, ms));
  await startPostgres();
}

/**
 * Fault injection under a store on purpose: another session takes `table` in ACCESS EXCLUSIVE mode and holds it
 * until release() (which rolls back), so the store's statements wait for the lock.
 */
export async function holdTableLock(url: string, table: string): Promise<{ release(): Promise<void> }> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`);
  return {
    async release() {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}
