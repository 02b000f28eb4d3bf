import type pg from 'pg';
import {
  MigrationRefusedError,
  MigrationRowsRefusedError,
  MigrationTargetNotEmptyError,
  type RefusedRow,
} from '../errors';
import { COPIED, COPIED_TABLES, type CopiedRow, type CopiedTable, type MigrationTarget } from '../migration';
import { toStoreError as toStoreErrorOf } from '../driver';
import { mergeActivity } from '../dashboard';
import { postgresDialect, postgresFailures } from './driver';
import { migrate } from './migrations';
import { createClient } from './pool';

const toStoreError = (err: unknown): never => toStoreErrorOf(err, postgresFailures);

/**
 * The PostgreSQL side of `skyrelay migrate-store`: one connection, the schema migrated first (under the same
 * advisory lock as a starting daemon), then pages inserted, each committed with its cursor in
 * migrate_store_progress, so no run inserts a row twice. A row already there can only be one the copy did not make:
 * refused like any other row PostgreSQL will not take, never skipped. migrate_store_progress is the copy's own
 * bookkeeping, created here rather than by a schema migration: only a database that was migrated into has it, and
 * the daemon never reads it.
 */
export async function openPostgresMigrationTarget(url: string): Promise<MigrationTarget> {
  const client = createClient({ url, connectTimeoutMs: 10_000 });
  client.on('error', () => undefined); // a failure reaches the awaited query
  try {
    await client.connect();
    await migrate(client);
    await client.query(`CREATE TABLE IF NOT EXISTS migrate_store_progress (
      source_table text PRIMARY KEY,
      after_key text NOT NULL,
      updated_ms bigint NOT NULL
    )`);
    await requireFreshOrOwnCopy(client);
  } catch (err) {
    await client.end().catch(() => undefined);
    if (err instanceof MigrationRefusedError) throw err;
    return toStoreError(err);
  }
  return {
    async readProgress() {
      const { rows } = await client
        .query<{ source_table: CopiedTable; after_key: string }>(
          'SELECT source_table, after_key FROM migrate_store_progress',
        )
        .catch(toStoreError);
      return new Map(rows.map((r) => [r.source_table, r.after_key]));
    },
    importRows: (table, rows, lastKey) => importPage(client, table, rows, lastKey).catch(toStoreError),
    async close() {
      await client.end().catch(() => undefined);
    },
  };
}

/** What the tables kept from others need of the rows a page inserted (see keepDerived). */
const KEPT: Partial<Record<CopiedTable, string>> = { payouts: 'state', attempts: 'id' };

/**
 * What the daemon keeps as rows change, kept for the copied rows too, in the page's transaction: payouts per state
 * (payout_counts), each destination's last success and failure (destination_activity).
 */
async function keepDerived(client: pg.Client, table: CopiedTable, kept: string[]): Promise<void> {
  if (kept.length === 0) return;
  if (table === 'payouts') {
    await client.query(
      `INSERT INTO payout_counts (state, shard, n) SELECT state, 0, count(*) FROM unnest($1::text[]) AS u (state)
       GROUP BY state ORDER BY state ON CONFLICT (state, shard) DO UPDATE SET n = payout_counts.n + excluded.n`,
      [kept],
    );
  }
  if (table === 'attempts') {
    await client.query(
      `WITH page AS (
         SELECT d.destination, a.id, a.started_ms, a.outcome, a.status, a.error
         FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.id = ANY($1::bigint[])
       ), s AS (
         SELECT destination, max(started_ms) AS success_ms FROM page WHERE outcome = 'delivered' GROUP BY destination
       ), f AS (
         SELECT DISTINCT ON (destination) destination, started_ms AS failure_ms, status AS failure_status,
           error AS failure_error
         FROM page WHERE outcome <> 'delivered' ORDER BY destination, started_ms DESC, id DESC
       )
       INSERT INTO destination_activity (destination, shard, success_ms, failure_ms, failure_status, failure_error)
       SELECT coalesce(s.destination, f.destination), 0, s.success_ms, f.failure_ms, f.failure_status, f.failure_error
       FROM s FULL JOIN f ON f.destination = s.destination
       ${mergeActivity(postgresDialect)}`,
      [kept],
    );
  }
}

/** Data with no copy progress beside it came from somewhere else (a daemon already running on this database). */
async function requireFreshOrOwnCopy(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM migrate_store_progress');
  if ((rows[0]?.n ?? 0) > 0) return;
  for (const table of COPIED_TABLES) {
    const found = await client.query(`SELECT 1 FROM ${table} LIMIT 1`);
    if (found.rowCount !== 0) throw new MigrationTargetNotEmptyError(table);
  }
}

/** SQLSTATE classes of a row PostgreSQL will not take, whatever the connection: data exceptions, constraints. */
function isRowError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * attempts.id and payout_reconciliations.id are GENERATED ALWAYS: the source's ids are kept (a payout's latest result
 * is its highest id), and the sequence is moved past them after each page.
 */
const GENERATED_IDS: ReadonlySet<CopiedTable> = new Set(['attempts', 'payout_reconciliations']);

async function insertRows(client: pg.Client, table: CopiedTable, rows: readonly CopiedRow[]) {
  const columns = COPIED[table].columns;
  const values: unknown[] = [];
  const tuples = rows.map((row) => {
    const start = values.length;
    for (const c of columns) values.push(row[c] ?? null);
    return `(${columns.map((_, i) => `$${start + i + 1}`).join(', ')})`;
  });
  const overriding = GENERATED_IDS.has(table) ? ' OVERRIDING SYSTEM VALUE' : '';
  return client.query<{ kept: string }>(
    `INSERT INTO ${table} (${columns.join(', ')})${overriding} VALUES ${tuples.join(', ')}
     ${KEPT[table] === undefined ? '' : `RETURNING ${KEPT[table]} AS kept`}`,
    values,
  );
}

async function importPage(client: pg.Client, table: CopiedTable, rows: readonly CopiedRow[], lastKey: string) {
  await client.query('BEGIN');
  let inserted = 0;
  try {
    if (rows.length > 0) {
      const result = await insertRows(client, table, rows);
      inserted = result.rowCount ?? 0;
      await keepDerived(
        client,
        table,
        result.rows.map((r) => r.kept),
      );
      if (GENERATED_IDS.has(table)) {
        await client.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT max(id) FROM ${table}))`);
      }
    }
    await client.query(
      `INSERT INTO migrate_store_progress (source_table, after_key, updated_ms) VALUES ($1, $2, $3)
       ON CONFLICT (source_table) DO UPDATE SET after_key = excluded.after_key, updated_ms = excluded.updated_ms`,
      [table, lastKey, Date.now()],
    );
    await client.query('COMMIT');
    return inserted;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (!isRowError(err)) throw err;
    const refused = await findRefusedRows(client, table, rows);
    // Every row went in alone: what failed was the page as a whole, not a row, and it is reported as it is.
    if (refused.length === 0) throw err;
    throw new MigrationRowsRefusedError(table, refused);
  }
}

/**
 * Which rows of a refused page PostgreSQL will not take, and why: each inserted alone under a savepoint in one
 * transaction (so two rows of the page on one key are caught too), which is then rolled back whole.
 * PostgreSQL's message names the type or constraint; its detail, which may quote a whole row (bodies, headers),
 * is left out.
 */
async function findRefusedRows(client: pg.Client, table: CopiedTable, rows: readonly CopiedRow[]) {
  const refused: RefusedRow[] = [];
  await client.query('BEGIN');
  try {
    for (const row of rows) {
      await client.query('SAVEPOINT copy_row');
      try {
        await insertRows(client, table, [row]);
        await client.query('RELEASE SAVEPOINT copy_row');
      } catch (err) {
        if (!isRowError(err)) throw err;
        await client.query('ROLLBACK TO SAVEPOINT copy_row');
        refused.push({ row: nameRow(table, row), reason: describeRowError(err) });
      }
    }
    return refused;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/** `id=evt_…` or `destination=ops-slack group_key=…`: the row's key as the SQLite file has it, each value cut short. */
function nameRow(table: CopiedTable, row: CopiedRow): string {
  return COPIED[table].key
    .map((c) => {
      const value = String(row[c]);
      return `${c}=${value.length > 80 ? `${value.slice(0, 80)}…` : value}`;
    })
    .join(' ');
}

function describeRowError(err: unknown): string {
  const e = err as { message?: unknown; column?: unknown; code?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const column = typeof e.column === 'string' && !message.includes(`"${e.column}"`) ? ` (column ${e.column})` : '';
  return `${message}${column} [SQLSTATE ${String(e.code)}]`;
}
