import type { StoreContext } from './context';
import { toDestinationActivity } from './rows';
import { all, get, rows, run } from './sql';
import type { DashboardStore } from './store';
import type { CallbackMinute } from './types';

/** What only the dashboard asks: callbacks per minute for its chart, destinations' last outcomes, signed-out sessions. */
export function createDashboardStore(ctx: StoreContext): DashboardStore {
  const { read, write } = ctx;
  return {
    addCallbackMinutes: (counts, pruneBeforeMs) =>
      write(function* () {
        // Sorted, so two processes adding the same minutes take the row locks in one order and never deadlock.
        const sorted = [...counts].sort((x, y) => x.minuteMs - y.minuteMs || x.outcome.localeCompare(y.outcome));
        yield* rows(
          `INSERT INTO callback_minutes (minute_ms, outcome, count)
           SELECT r.minute_ms, r.outcome, r.count FROM :rows AS r WHERE true
           ON CONFLICT (minute_ms, outcome) DO UPDATE SET count = callback_minutes.count + excluded.count`,
          {
            columns: [
              ['minute_ms', 'bigint'],
              ['outcome', 'text'],
              ['count', 'int'],
            ],
            rows: sorted.map((c) => [c.minuteMs, c.outcome, c.count]),
          },
        );
        yield* run('DELETE FROM callback_minutes WHERE minute_ms < ?', [pruneBeforeMs]);
      }),
    readCallbackMinutes: (sinceMs) =>
      read(function* () {
        const found = yield* all(
          'SELECT minute_ms, outcome, count FROM callback_minutes WHERE minute_ms >= ? ORDER BY minute_ms, outcome',
          [sinceMs],
        );
        return found.map((r) => ({
          minuteMs: Number(r['minute_ms']),
          outcome: String(r['outcome']) as CallbackMinute['outcome'],
          count: Number(r['count']),
        }));
      }),
    readDestinationActivity: () =>
      read(function* () {
        const successes = yield* all(`SELECT d.destination, max(a.started_ms) AS at FROM attempts a
          JOIN deliveries d ON d.id = a.delivery_id WHERE a.outcome = 'delivered' GROUP BY d.destination`);
        const failures = yield* all(`SELECT destination, started_ms, status, error FROM (
            SELECT d.destination, a.started_ms, a.status, a.error,
              row_number() OVER (PARTITION BY d.destination ORDER BY a.started_ms DESC, a.id DESC) AS n
            FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.outcome <> 'delivered'
          ) AS last WHERE n = 1`);
        return toDestinationActivity(successes, failures);
      }),
    endSession: async (sessionId, expiresMs, now = Date.now()) => {
      await write(function* () {
        yield* run('DELETE FROM ui_sessions_ended WHERE expires_ms <= ?', [now]);
        yield* run('INSERT INTO ui_sessions_ended (id, expires_ms) VALUES (?, ?) ON CONFLICT (id) DO NOTHING', [
          sessionId,
          expiresMs,
        ]);
      });
    },
    isSessionEnded: (sessionId) =>
      read(function* () {
        return (yield* get('SELECT 1 AS ended FROM ui_sessions_ended WHERE id = ?', [sessionId])) !== undefined;
      }),
  };
}
