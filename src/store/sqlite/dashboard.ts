import type Database from 'better-sqlite3';
import type { CallbackMinute, DestinationActivity } from '../types';
import { toDestinationActivity, type Row } from '../rows';

/** The dashboard's own questions (DashboardStore): callbacks per minute, and what each destination did last. */
export function prepareDashboard(db: Database.Database) {
  const add = db.prepare(`INSERT INTO callback_minutes (minute_ms, outcome, count) VALUES (?, ?, ?)
    ON CONFLICT (minute_ms, outcome) DO UPDATE SET count = count + excluded.count`);
  const prune = db.prepare('DELETE FROM callback_minutes WHERE minute_ms < ?');
  const read = db.prepare(
    'SELECT minute_ms, outcome, count FROM callback_minutes WHERE minute_ms >= ? ORDER BY minute_ms, outcome',
  );
  const successes = db.prepare(`SELECT d.destination, max(a.started_ms) AS at FROM attempts a
    JOIN deliveries d ON d.id = a.delivery_id WHERE a.outcome = 'delivered' GROUP BY d.destination`);
  const failures = db.prepare(`SELECT destination, started_ms, status, error FROM (
      SELECT d.destination, a.started_ms, a.status, a.error,
        row_number() OVER (PARTITION BY d.destination ORDER BY a.started_ms DESC, a.id DESC) AS n
      FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.outcome <> 'delivered'
    ) WHERE n = 1`);
  const endSession = db.prepare(
    'INSERT INTO ui_sessions_ended (id, expires_ms) VALUES (?, ?) ON CONFLICT (id) DO NOTHING',
  );
  const dropEnded = db.prepare('DELETE FROM ui_sessions_ended WHERE expires_ms <= ?');
  const isEnded = db.prepare('SELECT 1 FROM ui_sessions_ended WHERE id = ?').pluck();
  const endAndDrop = db.transaction((id: string, expiresMs: number, now: number) => {
    dropEnded.run(now);
    endSession.run(id, expiresMs);
  });
  const addAll = db.transaction((counts: readonly CallbackMinute[], pruneBeforeMs: number) => {
    for (const c of counts) add.run(c.minuteMs, c.outcome, c.count);
    prune.run(pruneBeforeMs);
  });

  return {
    addCallbackMinutes: (counts: readonly CallbackMinute[], pruneBeforeMs: number): void => {
      addAll.immediate(counts, pruneBeforeMs);
    },
    readCallbackMinutes: (sinceMs: number): CallbackMinute[] =>
      (read.all(sinceMs) as Row[]).map((r) => ({
        minuteMs: Number(r['minute_ms']),
        outcome: String(r['outcome']) as CallbackMinute['outcome'],
        count: Number(r['count']),
      })),
    endSession: (id: string, expiresMs: number, now: number): void => {
      endAndDrop.immediate(id, expiresMs, now);
    },
    isSessionEnded: (id: string): boolean => isEnded.get(id) !== undefined,
    readDestinationActivity: (): DestinationActivity[] =>
      toDestinationActivity(successes.all() as Row[], failures.all() as Row[]),
  };
}
