/**
 * The port between the store's transaction scripts and its two drivers. Every store rule is written once, as a
 * generator that yields the statements it needs and gets their results back: SQLite's driver runs it synchronously
 * inside one `db.transaction` (so a group commit stays one synchronous call), PostgreSQL's with `await` on one pooled
 * connection. A script never knows which; what differs between the two SQL dialects is named in `Dialect`.
 *
 *   function* countPending(d: Dialect, destination: string): Script<number> {
 *     const row = yield* get<{ n: number }>(`SELECT count(*) AS n FROM deliveries WHERE destination = ?`, [destination]);
 *     return row?.n ?? 0;
 *   }
 *
 * SQL is written with `?` placeholders (PostgreSQL's driver numbers them). A set-based statement names its row
 * source `:rows` (see `rows`): PostgreSQL runs it once over `unnest` of column arrays, SQLite once per row over a
 * one-row source, which for an embedded database costs no round trip.
 */

/** A row as a driver returns it: column name to value (bigint times arrive as numbers from both drivers). */
export type Row = Record<string, unknown>;

/** The column types a set-based row source declares (PostgreSQL needs them for its arrays). */
export type ColumnType = 'text' | 'bigint' | 'int' | 'bytea' | 'float';

/** A set-based statement's rows: column names with types, and the rows in that column order. */
export interface RowSource {
  columns: readonly (readonly [name: string, type: ColumnType])[];
  rows: readonly (readonly unknown[])[];
}

export type Statement =
  | { op: 'all' | 'get' | 'run'; sql: string; params: readonly unknown[] }
  | { op: 'rows'; sql: string; params: readonly unknown[]; source: RowSource };

/** A transaction script: yields statements, receives their results, returns its own. */
export type Script<R> = Generator<Statement, R, unknown>;

/** Every row the statement returns. */
export function* all<T = Row>(sql: string, params: readonly unknown[] = []): Script<T[]> {
  return (yield { op: 'all', sql, params }) as T[];
}

/** The first row, or undefined. */
export function* get<T = Row>(sql: string, params: readonly unknown[] = []): Script<T | undefined> {
  return (yield { op: 'get', sql, params }) as T | undefined;
}

/** Runs a statement that returns no rows; resolves how many rows it changed. */
export function* run(sql: string, params: readonly unknown[] = []): Script<number> {
  return (yield { op: 'run', sql, params }) as number;
}

/**
 * A set-based statement over `source`: `sql` names it `:rows` once, as a table with the source's column names
 * (`INSERT INTO t (a, b) SELECT r.a, r.b FROM :rows AS r`). Resolves every row a RETURNING clause gives, in
 * source order. Rows must not depend on each other inside the statement (each is applied as if alone), so
 * callers pass no two rows that update one target row.
 */
export function* rows<T = Row>(sql: string, source: RowSource, params: readonly unknown[] = []): Script<T[]> {
  if (source.rows.length === 0) return [];
  return (yield { op: 'rows', sql, params, source }) as T[];
}

/**
 * What differs between the SQL of SQLite and PostgreSQL, as fragments a script writes into its statements and the
 * few capabilities only one of them has. Everything else (ON CONFLICT, RETURNING, window functions, FILTER,
 * recursive CTEs, row values) is written once for both.
 */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** Row locks for the rest of the transaction (` FOR UPDATE`); SQLite's write transaction already excludes all. */
  readonly forUpdate: string;
  /** The same, passing over rows another transaction holds (` FOR UPDATE SKIP LOCKED`). */
  readonly forUpdateSkipLocked: string;
  /** Keeps the rows from being deleted meanwhile (` FOR SHARE`). */
  readonly forShare: string;
  /** The larger of two values: `greatest` in PostgreSQL, the two-argument `max` in SQLite. */
  readonly greatest: string;
  /** The smaller of two values: `least` / two-argument `min`. */
  readonly least: string;
  /** `x ${d.inList}` with `d.list(values)` as its parameter: x is one of the values. */
  readonly inList: string;
  list(values: readonly unknown[]): unknown;
  /** Byte-wise order for text, whatever the server's locale (SQLite's default). */
  readonly byteOrder: string;
  /**
   * Written before a column in a filter that matches most rows (`${d.noIndex}state = 'delivered'`), so SQLite's
   * planner, which keeps no statistics, does not search an index for it and sort, but reads in the listing's order
   * and stops at a page; and beside a list of ids (`id ${d.inList} AND ${d.noIndex}state = 'dead'`), so it finds the
   * ids by key instead of every row in that state. `+` there; PostgreSQL's planner weighs that from its own
   * statistics, so nothing.
   */
  readonly noIndex: string;
  /**
   * `SELECT pg_advisory_xact_lock(...)`-style locks taken in name order for the transaction, so two writers counting
   * the same destinations wait for each other; undefined where the write transaction already excludes all others.
   */
  readonly lockNames: string | undefined;
  /** Wakes other processes' delivery workers at COMMIT; undefined where nobody can listen (SQLite polls). */
  readonly notify: string | undefined;
}

/** Takes the transaction-scoped locks on `names` (sorted, so two holders never wait on each other in a cycle). */
export function* lockNames(d: Dialect, space: number, names: readonly string[]): Script<void> {
  if (d.lockNames === undefined || names.length === 0) return;
  yield* run(d.lockNames, [space, d.list([...new Set(names)].sort())]);
}

/** Tells other processes new work was written, at COMMIT (and never for a transaction that rolled back). */
export function* notifyWork(d: Dialect, why: string): Script<void> {
  if (d.notify !== undefined) yield* run(d.notify, [why]);
}

/** Runs a script to its end with a synchronous executor: SQLite's driver, inside its transaction. */
export function runScriptSync<R>(script: Script<R>, execute: (s: Statement) => unknown): R {
  let step = script.next();
  while (!step.done) {
    let result: unknown;
    try {
      result = execute(step.value);
    } catch (err) {
      step = script.throw(err);
      continue;
    }
    step = script.next(result);
  }
  return step.value;
}

/** Runs a script to its end with an asynchronous executor: PostgreSQL's driver, on one connection. */
export async function runScript<R>(script: Script<R>, execute: (s: Statement) => Promise<unknown>): Promise<R> {
  let step = script.next();
  while (!step.done) {
    let result: unknown;
    try {
      result = await execute(step.value);
    } catch (err) {
      step = script.throw(err);
      continue;
    }
    step = script.next(result);
  }
  return step.value;
}

/**
 * `WHERE a = ? AND b < ?` from the conditions whose value is set, ANDed: the filters of listings and counts.
 * A condition with `?` takes its value as the parameter; one without takes none (a flag).
 */
export function where(conditions: readonly (readonly [sql: string, value: unknown])[]): {
  sql: string;
  params: unknown[];
} {
  const used = conditions.filter(([, value]) => value !== undefined && value !== false);
  return {
    sql: used.length ? `WHERE ${used.map(([c]) => c).join(' AND ')}` : '',
    params: used.flatMap(([c, v]) => (c.includes('?') ? [v] : [])),
  };
}
