import { Client } from 'pg';
import { migrateSqlite, openSqliteFile } from '../support/sqlite';

/**
 * A store as a busy month leaves it, for the ledger's bench: `count` callback events over `days` days ending at
 * `endMs`, each with a delivered webhook delivery and its attempt; one in ten also a member of a Slack group (a
 * message event, with its delivered delivery, per hundred members), one in fifty held back by a silence, one in a
 * hundred received twice; a payout row per three events (the open ones reported stuck already), and the callback tally the daemon writes with each. Made
 * by the database itself (a generated series of rows), through the daemon's own migrations, so the schema and the
 * indexes are the shipped ones and a million rows take seconds.
 */
export interface LedgerSeed {
  count: number;
  days: number;
  endMs: number;
}

const STATES = `CASE p WHEN 1 THEN 'uploaded' WHEN 2 THEN 'paid' WHEN 3 THEN 'cancelled' WHEN 4 THEN 'failed'
  WHEN 5 THEN 'amendedSuccess' ELSE 'amendedFailure' END`;
const STATUSES = `CASE p WHEN 1 THEN 'upload' WHEN 2 THEN 'paid' WHEN 3 THEN 'cancel' WHEN 4 THEN 'failure'
  WHEN 5 THEN 'amendedSuccess' ELSE 'amendedFailure' END`;
/** A body of a realistic size (the ledger reads none of a callback's). */
const BODY = `'{"source":"skypay","type":"payout","action":"payoutQueuePayout","partner":"AppName@skypay","failDescription":null,"referenceNumber":null,"extra":{},"duplicates":0,"pad":"${'x'.repeat(200)}"}'`;

/** The statements, over `series` (a table of i from 0 to count - 1) and the seed's numbers. */
function statements(series: string, s: LedgerSeed, cat: (...parts: string[]) => string): string[] {
  const start = s.endMs - s.days * 86_400_000;
  const step = (s.days * 86_400_000) / s.count;
  const rows = `(SELECT i, ${start} + CAST(i * ${step} AS BIGINT) AS ms, (i % 6) + 1 AS p FROM ${series}) AS r`;
  const groups = Math.ceil(s.count / 1000);
  return [
    `INSERT INTO events (id, source, type, partner, control_number, pay_type, status, deal_time, body, received_ms,
       duplicates, last_seen_ms, origin, routes)
     SELECT ${cat("'evt_'", 'i')}, 'skypay', 'payout', 'AppName@skypay', ${cat("'S'", 'i')}, p, ${STATUSES},
       ${cat("'2026-01-01 00:00:'", 'i')}, ${BODY}, ms, CASE WHEN i % 100 = 0 THEN 1 ELSE 0 END,
       CASE WHEN i % 100 = 0 THEN ms + 1000 END, 'callback',
       1 + CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END + CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END FROM ${rows}`,
    `INSERT INTO deliveries (id, event_id, destination, rules, state, attempts, next_attempt_ms, created_ms,
       updated_ms, last_status, replays)
     SELECT ${cat("'dlv_'", 'i')}, ${cat("'evt_'", 'i')}, 'sink', '["all"]', 'delivered', 1, ms, ms, ms + 5, 200, 0
     FROM ${rows}`,
    `INSERT INTO attempts (delivery_id, attempt, started_ms, duration_ms, outcome, status, response)
     SELECT ${cat("'dlv_'", 'i')}, 1, ms + 1, 4, 'delivered', 200, 'ok' FROM ${rows}`,
    `INSERT INTO group_members (event_id, destination, group_key, rules, created_ms, message_event_id)
     SELECT ${cat("'evt_'", 'i')}, 'ops-slack', 'k', '["failures"]', ms, ${cat("'msg_'", 'CAST(i / 1000 AS BIGINT)')}
     FROM ${rows} WHERE i % 10 = 0`,
    `INSERT INTO events (id, source, type, body, received_ms, origin, routes)
     SELECT ${cat("'msg_'", 'i')}, 'skyrelay', 'group', '{}', ${start} + CAST((i * 1000 + 999) * ${step} AS BIGINT) + 5000,
       'skyrelay', 1 FROM ${series} WHERE i < ${groups}`,
    `INSERT INTO deliveries (id, event_id, destination, rules, state, attempts, next_attempt_ms, created_ms,
       updated_ms, last_status, replays)
     SELECT ${cat("'dlm_'", 'i')}, ${cat("'msg_'", 'i')}, 'ops-slack', '["failures"]', 'delivered', 1, 0, 0, 0, 200, 0
     FROM ${series} WHERE i < ${groups}`,
    `INSERT INTO event_silences (event_id, destination, silence_id, rules)
     SELECT ${cat("'evt_'", 'i')}, 'quiet', 'sil_bench', '["all"]' FROM ${rows} WHERE i % 50 = 0`,
    // Open ones were reported stuck long ago (stuck_state): the stuck check has nothing left to raise.
    `INSERT INTO payouts (id, partner, control_number, state, first_seen_ms, last_seen_ms, last_deal_time,
       state_since_ms, stuck_state, anomalies, confirmation)
     SELECT ${cat("'pay_'", 'i')}, 'AppName@skypay', ${cat("'S'", 'i')}, ${STATES}, ms, ms, '2026-01-01 00:00:00', ms,
       CASE WHEN p IN (2, 3, 4) THEN NULL ELSE ${STATES} END, 0, 'off' FROM ${rows} WHERE i % 3 = 0`,
    `INSERT INTO callback_tally (quarter_ms, partner, outcome, count)
     SELECT received_ms / 900000 * 900000, partner, 'event', count(*) FROM events WHERE source = 'skypay'
     GROUP BY 1, 2`,
    `INSERT INTO callback_tally (quarter_ms, partner, outcome, count)
     SELECT last_seen_ms / 900000 * 900000, partner, 'duplicate', sum(duplicates) FROM events
     WHERE duplicates > 0 GROUP BY 1, 2`,
  ];
}

/** Seeds a SQLite file (migrated first). */
export function seedLedgerSqlite(dbPath: string, s: LedgerSeed): void {
  const db = openSqliteFile(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  migrateSqlite(db);
  const series = `(WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${s.count - 1})
    SELECT i FROM n)`;
  db.transaction(() => {
    for (const sql of statements(series, s, (...parts) => parts.join(' || '))) db.exec(sql);
  })();
  db.exec('ANALYZE');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** Seeds a PostgreSQL database the daemon has migrated (open a store on it once first). */
export async function seedLedgerPostgres(url: string, s: LedgerSeed): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    const series = `generate_series(0, ${s.count - 1}) AS g(i)`;
    for (const sql of statements(series, s, (...parts) => parts.map((p) => `(${p})::text`).join(' || '))) {
      await client.query(sql);
    }
    await client.query('COMMIT');
    await client.query('VACUUM ANALYZE');
  } finally {
    await client.end();
  }
}
