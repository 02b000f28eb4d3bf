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

/**
 * PostgreSQL's text cannot hold U+0000: a statement with one in any parameter fails whole. A client can put one
 * almost anywhere (a userName, a header, a receiver's answer), and the row would be lost and the request answered
 * 503. Every string parameter has it replaced by U+FFFD, the replacement character, before it is sent; reads too,
 * so a lookup for such text finds what was written for it (and otherwise nothing, as on SQLite). JSON text is not
 * touched: JSON.stringify writes the character as the six characters \u0000, which text columns keep as they are.
 */
export function withoutNul(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
  if (Array.isArray(value)) return value.map(withoutNul);
  return value;
}

/** pg's Client, with every query's parameters passed through withoutNul: the one place all statements go through. */
class NulSafeClient extends pg.Client {}
const plainQuery = pg.Client.prototype.query;
NulSafeClient.prototype.query = function query(this: pg.Client, ...args: unknown[]): unknown {
  const [first, values] = args;
  if (Array.isArray(values)) args[1] = values.map(withoutNul);
  else if (isQueryConfig(first) && Array.isArray(first.values))
    args[0] = { ...first, values: first.values.map(withoutNul) };
  return Reflect.apply(plainQuery, this, args);
} as typeof plainQuery;

/** `{ text, values }`; not a Submittable (a Query or a cursor), which carries state of its own and is left alone. */
function isQueryConfig(arg: unknown): arg is { values?: unknown } {
  return typeof arg === 'object' && arg !== null && typeof (arg as { submit?: unknown }).submit !== 'function';
}

export function createPool(o: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    Client: NulSafeClient,
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
  return new NulSafeClient({
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
