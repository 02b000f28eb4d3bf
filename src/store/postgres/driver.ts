import type pg from 'pg';
import { toStoreError, type Driver, type FailureKinds } from '../driver';
import { StoreClosedError, StoreUnavailableError } from '../errors';
import { runScript, type ColumnType, type Dialect, type Script, type Statement } from '../sql';
import { codeOf, failsAll, isBusy } from './failure';
import { WorkListener } from './listener';
import { LOCK_SPACE, WORK_CHANNEL } from '../locks';
import { migrate } from './migrations';
import { createClient, createPool, inTransaction } from './pool';

export const postgresDialect: Dialect = {
  name: 'postgres',
  forUpdate: ' FOR UPDATE',
  forUpdateSkipLocked: ' FOR UPDATE SKIP LOCKED',
  forShare: ' FOR SHARE',
  greatest: 'greatest',
  least: 'least',
  inList: '= ANY(?)',
  list: (values) => values,
  byteOrder: ' COLLATE "C"',
  noIndex: '',
  // Evaluated after the sort (a volatile function in the target list), so the locks are taken in name order.
  lockNames: 'SELECT pg_advisory_xact_lock(?::int, hashtext(n)) FROM unnest(?::text[]) AS u (n) ORDER BY n COLLATE "C"',
  notify: `SELECT pg_notify('${WORK_CHANNEL}', ?)`,
};

const PG_TYPES: Record<ColumnType, string> = {
  text: 'text',
  bigint: 'bigint',
  int: 'int',
  bytea: 'bytea',
  float: 'double precision',
};

export const postgresFailures: FailureKinds = { isBusy, failsAll, codeOf };
const failures = postgresFailures;

export interface PostgresDriverOptions {
  /** postgres://… (store.url). May hold a password: never logged. */
  url: string;
  /** Connections this process keeps (store.poolSize). */
  poolSize?: number | undefined;
  /** How long a statement waits for another session's lock before failing with StoreBusyError (store.busyTimeoutMs). */
  busyTimeoutMs?: number | undefined;
  /** How long getting a connection may take before a call fails as unavailable. */
  connectTimeoutMs?: number | undefined;
  /** The longest ping waits for an answer: liveness must answer fast even when the server does not. */
  pingTimeoutMs?: number | undefined;
  /** Connection trouble the store survives by itself (an idle connection dropped, LISTEN lost): for the log. */
  onConnectionError?: ((err: Error) => void) | undefined;
}

/**
 * The driver for several hosts: one PostgreSQL database shared by every instance. Scripts run on one pooled
 * connection, writes inside BEGIN/COMMIT; statements go out with numbered placeholders and set-based row sources
 * as `unnest` of typed arrays. Workers are woken with LISTEN/NOTIFY. While the server is away every call fails
 * with StoreUnavailableError, and the pool connects again by itself once it is back.
 */
export class PostgresDriver implements Driver {
  readonly kind = 'postgres';
  readonly d = postgresDialect;
  readonly failures = failures;
  readonly batchesInFlight = 1;
  statements = 0;
  readonly lostReason: string | undefined = undefined;
  private readonly pool: pg.Pool;
  private readonly listener: WorkListener;
  private readonly connectClient: () => pg.Client;
  private readonly pingTimeoutMs: number;
  private readonly texts = new Map<string, string>();
  private closing: Promise<void> | undefined;

  /** Connects, brings the schema up to date (under an advisory lock) and returns the open driver. */
  static async open(options: PostgresDriverOptions): Promise<PostgresDriver> {
    const driver = new PostgresDriver(options);
    try {
      const client = driver.connectClient();
      client.on('error', () => undefined); // a failure reaches the awaited query below
      try {
        await client.connect();
        await migrate(client);
      } finally {
        await client.end().catch(() => undefined);
      }
    } catch (err) {
      await driver.close();
      return toStoreError(err, failures);
    }
    return driver;
  }

  private constructor(options: PostgresDriverOptions) {
    const onError = options.onConnectionError ?? (() => undefined);
    const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 1_000;
    this.pool = createPool({
      url: options.url,
      poolSize: options.poolSize ?? 10,
      connectTimeoutMs,
      lockTimeoutMs: options.busyTimeoutMs ?? 5_000,
      onError,
    });
    this.connectClient = () => createClient({ url: options.url, connectTimeoutMs });
    this.listener = new WorkListener(this.connectClient, onError);
  }

  /** On any pooled connection (the store's ReadLane lets one run at a time per process). */
  async read<R>(script: () => Script<R>): Promise<R> {
    this.assertOpen();
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
      const on = client;
      return await runScript(script(), (s) => this.execute(on, s));
    } catch (err) {
      return toStoreError(err, failures);
    } finally {
      client?.release();
    }
  }

  /** Small indexed reads the worker and the caches wait for: not in the lane, not queued behind listings. */
  readQuick<R>(script: () => Script<R>): Promise<R> {
    return this.read(script);
  }

  async write<R>(script: () => Script<R>): Promise<R> {
    try {
      return await this.writeRaw(script);
    } catch (err) {
      return toStoreError(err, failures);
    }
  }

  writeRaw<R>(script: () => Script<R>): Promise<R> {
    this.assertOpen();
    // BEGIN and COMMIT: round trips of their own.
    this.statements += 2;
    return inTransaction(this.pool, (client) => runScript(script(), (s) => this.execute(client, s)));
  }

  async ping(): Promise<void> {
    this.assertOpen();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailableError('store did not answer in time', { code: 'TIMEOUT' })),
        this.pingTimeoutMs,
      );
    });
    const query = this.pool.query('SELECT 1');
    // The query may still fail after the timeout won; that later failure is already reported.
    query.catch(() => undefined);
    try {
      await Promise.race([query, timeout]);
    } catch (err) {
      toStoreError(err, failures);
    } finally {
      clearTimeout(timer);
    }
  }

  onNewWork(listener: () => void): () => void {
    this.assertOpen();
    return this.listener.subscribe(listener);
  }

  /** Nothing to shorten: waits for PostgreSQL never block the event loop. */
  markServing(): void {}

  /**
   * The lock is a session advisory lock on a connection of its own, held for the whole job: another instance's
   * try fails at once, and if this process dies its session ends and PostgreSQL lets the lock go. So does a dropped
   * connection while the job runs: another instance may then start the same job, which is why every job given here
   * is safe to run twice at once, only wasteful.
   */
  async runExclusive<T>(name: string, job: () => Promise<T>): Promise<T | undefined> {
    this.assertOpen();
    const client = this.connectClient();
    // A dropped connection also ends the session and with it the lock; the job's own store calls report it.
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
        [LOCK_SPACE.job, name],
      );
      if (!rows[0]?.locked) {
        await client.end().catch(() => undefined);
        return undefined;
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      return toStoreError(err, failures);
    }
    try {
      return await job();
    } finally {
      // Ending the session releases the lock; no unlock statement to fail halfway.
      await client.end().catch(() => undefined);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.listener.stop();
      await this.pool.end();
    })();
    return this.closing;
  }

  assertOpen(): void {
    if (this.closing) throw new StoreClosedError();
  }

  private async execute(client: pg.ClientBase, s: Statement): Promise<unknown> {
    this.statements += 1;
    if (s.op === 'rows') {
      const columns = s.source.columns;
      const key = `${s.sql}\u0000${columns.map(([n, t]) => `${n}:${t}`).join(',')}`;
      let text = this.texts.get(key);
      if (text === undefined) {
        const unnest = `unnest(${columns.map(([, t]) => `?::${PG_TYPES[t]}[]`).join(', ')})`;
        const names = columns.map(([n]) => n).join(', ');
        text = numbered(s.sql.replace(/:rows AS (\w+)/, `${unnest} AS $1 (${names})`));
        this.texts.set(key, text);
      }
      const split = countPlaceholders(s.sql.slice(0, s.sql.indexOf(':rows')));
      const arrays = columns.map((_, i) => s.source.rows.map((row) => row[i] ?? null));
      const params = [...s.params.slice(0, split), ...arrays, ...s.params.slice(split)];
      return (await client.query(text, params)).rows;
    }
    let text = this.texts.get(s.sql);
    if (text === undefined) {
      text = numbered(s.sql);
      this.texts.set(s.sql, text);
    }
    const result = await client.query(text, s.params as unknown[]);
    switch (s.op) {
      case 'all':
        return result.rows;
      case 'get':
        return result.rows[0];
      case 'run':
        return result.rowCount ?? 0;
    }
  }
}

/** `?` placeholders as PostgreSQL's `$1, $2, …`, in order. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function countPlaceholders(sql: string): number {
  return sql.split('?').length - 1;
}
