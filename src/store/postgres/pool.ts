import pg from 'pg';

export interface PoolOptions {
  url: string;
  poolSize: number;
  /** How long getting a connection may take before the call fails as unavailable. */
  connectTimeoutMs: number;
  /** How long a statement waits for a lock another session holds (PostgreSQL's lock_timeout): then StoreBusyError. */
  lockTimeoutMs: number;
  onError: (err: Error) => void;
}

/** bigint columns (ms times, counts) as numbers: every value skyrelay keeps there is far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

export function createPool(o: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.poolSize,
    connectionTimeoutMillis: o.connectTimeoutMs,
    lock_timeout: o.lockTimeoutMs,
    keepAlive: true,
    types,
    application_name: 'skyrelay',
  });
  // An idle connection the server ends (shutdown, restart) reports here; the next query gets a fresh one.
  pool.on('error', o.onError);
  return pool;
}

/** A dedicated connection outside the pool (LISTEN, advisory locks held by a session, migrations). */
export function createClient(o: Pick<PoolOptions, 'url' | 'connectTimeoutMs'>): pg.Client {
  return new pg.Client({
    connectionString: o.url,
    connectionTimeoutMillis: o.connectTimeoutMs,
    keepAlive: true,
    types,
    application_name: 'skyrelay',
  });
}

/** Runs `fn` in one transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when it throws. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // The pool stops listening for 'error' on a client it hands out, and a server that goes away mid-transaction
  // emits one: unheard, it would end the process. The statement in progress rejects with the same error.
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
      // The connection is gone or confused: do not give it back to the pool.
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    });
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}
