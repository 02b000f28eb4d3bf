import type pg from 'pg';
import { MigrationTargetNotEmptyError } from '../errors';
import { COPIED_TABLES, type CopiedRow, type CopiedTable, type MigrationTarget } from '../migration';
import { toStoreError as toStoreErrorOf } from '../driver';
import { postgresFailures } from './driver';
import { migrate } from './migrations';
import { createClient } from './pool';

const toStoreError = (err: unknown): never => toStoreErrorOf(err, postgresFailures);

/** The columns copied, as this schema names them (the SQLite schema uses the same names). */
const COLUMNS: Record<CopiedTable, readonly string[]> = {
  events: [
    'id',
    'source',
    'type',
    'partner',
    'control_number',
    'pay_type',
    'status',
    'deal_time',
    'body',
    'received_ms',
    'duplicates',
    'last_seen_ms',
    'origin',
    'routes',
  ],
  deliveries: [
    'id',
    'event_id',
    'destination',
    'rules',
    'state',
    'attempts',
    'next_attempt_ms',
    'lease_until_ms',
    'lease_owner',
    'created_ms',
    'updated_ms',
    'last_status',
    'last_error',
    'replays',
  ],
  attempts: ['id', 'delivery_id', 'attempt', 'started_ms', 'duration_ms', 'outcome', 'status', 'error', 'response'],
  callback_keys: ['partner', 'control_number', 'pay_type', 'deal_time', 'event_id', 'received_ms', 'digest'],
  callback_copies: ['id', 'event_id', 'received_ms', 'body', 'digest', 'repeats'],
  callback_tally: ['quarter_ms', 'partner', 'outcome', 'count'],
  payouts: [
    'id',
    'partner',
    'control_number',
    'state',
    'first_seen_ms',
    'last_seen_ms',
    'last_deal_time',
    'state_since_ms',
    'stuck_state',
    'anomalies',
    'confirmation',
  ],
  rejections: [
    'id',
    'received_ms',
    'remote_address',
    'method',
    'path',
    'content_type',
    'status',
    'reason',
    'description',
    'partner',
    'body',
    'body_bytes',
    'content_type_bytes',
    'suppressed',
  ],
  silences: [
    'id',
    'matchers',
    'destinations',
    'starts_ms',
    'ends_ms',
    'created_by',
    'created_ms',
    'comment',
    'expired_by',
    'expired_ms',
    'created_via',
    'created_from',
    'expired_via',
    'expired_from',
  ],
  event_silences: ['event_id', 'destination', 'silence_id', 'rules'],
  payout_reconciliations: [
    'id',
    'partner',
    'control_number',
    'first_ms',
    'last_ms',
    'checks',
    'status',
    'status_desc',
    'outcome',
    'detail',
    'event_id',
  ],
};

/**
 * The PostgreSQL side of `skyrelay migrate-store`: one connection, the schema migrated first (under the same
 * advisory lock as a starting daemon), then pages inserted with ON CONFLICT DO NOTHING, each committed with its
 * cursor in migrate_store_progress. That table is the copy's own bookkeeping, created here rather than by a
 * schema migration: only a database that was migrated into has it, and the daemon never reads it.
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
    if (err instanceof MigrationTargetNotEmptyError) throw err;
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

/** Data with no copy progress beside it came from somewhere else (a daemon already running on this database). */
async function requireFreshOrOwnCopy(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM migrate_store_progress');
  if ((rows[0]?.n ?? 0) > 0) return;
  for (const table of COPIED_TABLES) {
    const found = await client.query(`SELECT 1 FROM ${table} LIMIT 1`);
    if (found.rowCount !== 0) throw new MigrationTargetNotEmptyError(table);
  }
}

async function importPage(client: pg.Client, table: CopiedTable, rows: readonly CopiedRow[], lastKey: string) {
  const columns = COLUMNS[table];
  await client.query('BEGIN');
  try {
    let inserted = 0;
    if (rows.length > 0) {
      const values: unknown[] = [];
      const tuples = rows.map((row) => {
        const start = values.length;
        for (const c of columns) values.push(row[c] ?? null);
        return `(${columns.map((_, i) => `$${start + i + 1}`).join(', ')})`;
      });
      // attempts.id and payout_reconciliations.id are GENERATED ALWAYS: the source's ids are kept (a payout's
      // latest result is its highest id), and the sequence moved past them below.
      const generated = table === 'attempts' || table === 'payout_reconciliations';
      const overriding = generated ? ' OVERRIDING SYSTEM VALUE' : '';
      const result = await client.query(
        `INSERT INTO ${table} (${columns.join(', ')})${overriding} VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`,
        values,
      );
      inserted = result.rowCount ?? 0;
      if (generated) {
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
    throw err;
  }
}
