import fs from 'node:fs';
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { mergeActivity } from './dashboard';
import { toStoreError } from './driver';
import { StoreNotFoundError } from './errors';
import { postgresDialect, postgresFailures } from './postgres/driver';
import { migrate as migratePostgres } from './postgres/migrations';
import { createClient } from './postgres/pool';
import { openDatabase } from './sqlite/database';

/**
 * The databases under the two stores, opened directly, for a tool that copies one into the other table by table
 * (`skyrelay migrate-store`, src/operations/migrate-store). Each is brought to the current schema first, as a
 * starting daemon would; what the store derives from its rows is kept here too, so a copy that inserts rows around
 * the Store interface leaves the same tables a daemon would. Nothing the daemon runs uses this.
 */

/** The SQLite file at `path`, migrated; StoreNotFoundError when there is no file (one is never created here). */
export function openSqliteDirect(path: string): Database.Database {
  if (!fs.existsSync(path)) throw new StoreNotFoundError(`no database at ${path}`);
  return openDatabase({ path });
}

/** A PostgreSQL failure as the store names it (StoreBusyError, StoreUnavailableError, with its code). */
export function toPostgresStoreError(err: unknown): never {
  return toStoreError(err, postgresFailures);
}

/**
 * One connection to the PostgreSQL database at `url`, its schema migrated under the advisory lock a starting daemon
 * takes. A failure ends the connection and rejects with a store error.
 */
export async function connectPostgresDirect(url: string, connectTimeoutMs: number): Promise<pg.Client> {
  const client = createClient({ url, connectTimeoutMs });
  client.on('error', () => undefined); // a failure reaches the awaited query
  try {
    await client.connect();
    await migratePostgres(client);
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    return toPostgresStoreError(err);
  }
}

/** The tables whose inserted rows other tables are derived from, and the column each derivation needs. */
export const DERIVED_FROM = { payouts: 'state', attempts: 'id' } as const;

/**
 * What the daemon keeps as rows change, kept for rows inserted directly, in the caller's transaction: payouts per
 * state (payout_counts) from the inserted payouts' states, each destination's last success and failure
 * (destination_activity) from the inserted attempts' ids.
 */
export async function keepDerivedPostgres(
  client: pg.ClientBase,
  table: keyof typeof DERIVED_FROM,
  values: readonly string[],
): Promise<void> {
  if (values.length === 0) return;
  if (table === 'payouts') {
    await client.query(
      `INSERT INTO payout_counts (state, shard, n) SELECT state, 0, count(*) FROM unnest($1::text[]) AS u (state)
       GROUP BY state ORDER BY state ON CONFLICT (state, shard) DO UPDATE SET n = payout_counts.n + excluded.n`,
      [values],
    );
    return;
  }
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
    [values],
  );
}
