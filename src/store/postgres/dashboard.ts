import type { ClientBase } from 'pg';
import type { CallbackMinute, DestinationActivity } from '../types';
import { toDestinationActivity, type Row } from '../rows';

type Queryable = Pick<ClientBase, 'query'>;

/** The dashboard's own questions (DashboardStore), as the SQLite store answers them. */
export async function addCallbackMinutes(
  client: Queryable,
  counts: readonly CallbackMinute[],
  pruneBeforeMs: number,
): Promise<void> {
  // Sorted, so two instances adding the same minutes take the row locks in one order and never deadlock.
  const sorted = [...counts].sort((x, y) => x.minuteMs - y.minuteMs || x.outcome.localeCompare(y.outcome));
  for (const c of sorted) {
    await client.query(
      `INSERT INTO callback_minutes (minute_ms, outcome, count) VALUES ($1, $2, $3)
       ON CONFLICT (minute_ms, outcome) DO UPDATE SET count = callback_minutes.count + excluded.count`,
      [c.minuteMs, c.outcome, c.count],
    );
  }
  await client.query('DELETE FROM callback_minutes WHERE minute_ms < $1', [pruneBeforeMs]);
}

export async function readCallbackMinutes(db: Queryable, sinceMs: number): Promise<CallbackMinute[]> {
  const { rows } = await db.query<Row>(
    'SELECT minute_ms, outcome, count FROM callback_minutes WHERE minute_ms >= $1 ORDER BY minute_ms, outcome',
    [sinceMs],
  );
  return rows.map((r) => ({
    minuteMs: Number(r['minute_ms']),
    outcome: String(r['outcome']) as CallbackMinute['outcome'],
    count: Number(r['count']),
  }));
}

export async function readDestinationActivity(db: Queryable): Promise<DestinationActivity[]> {
  const successes = await db.query<Row>(`SELECT d.destination, max(a.started_ms) AS at FROM attempts a
    JOIN deliveries d ON d.id = a.delivery_id WHERE a.outcome = 'delivered' GROUP BY d.destination`);
  const failures = await db.query<Row>(`SELECT DISTINCT ON (d.destination) d.destination, a.started_ms, a.status,
      a.error FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.outcome <> 'delivered'
    ORDER BY d.destination, a.started_ms DESC, a.id DESC`);
  return toDestinationActivity(successes.rows, failures.rows);
}

export async function endSession(client: Queryable, id: string, expiresMs: number, now: number): Promise<void> {
  await client.query('DELETE FROM ui_sessions_ended WHERE expires_ms <= $1', [now]);
  await client.query('INSERT INTO ui_sessions_ended (id, expires_ms) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [
    id,
    expiresMs,
  ]);
}

export async function isSessionEnded(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM ui_sessions_ended WHERE id = $1', [id]);
  return rows.length > 0;
}
