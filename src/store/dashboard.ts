import type { StoreContext } from './context';
import { toDestinationActivity } from './rows';
import { WRITER_SHARD } from './shard';
import { all, get, rows, run, type Dialect, type Row, type Script } from './sql';
import type { DashboardStore } from './store';
import type { AttemptRecord } from '../delivery/types';
import type { DestinationActivity } from './types';
import type { CallbackMinute } from '../ingest/types';

/** One finished attempt as the destinations page remembers it. */
export interface FinishedAttempt {
  destination: string;
  attempt: AttemptRecord;
}

/**
 * The upsert clause of destination_activity: the later success and the later failure win (SQLite's two-argument max
 * is NULL when either is, hence the coalesce). Also how migrate-store merges the attempts it copies.
 */
export function mergeActivity(d: Pick<Dialect, 'greatest'>): string {
  const later = `CASE WHEN destination_activity.failure_ms IS NULL OR excluded.failure_ms >= destination_activity.failure_ms`;
  const latest = (column: string) =>
    `coalesce(${d.greatest}(destination_activity.${column}, excluded.${column}), destination_activity.${column},
       excluded.${column})`;
  return `ON CONFLICT (destination, shard) DO UPDATE SET
    success_ms = ${latest('success_ms')},
    failure_status = ${later} THEN excluded.failure_status ELSE destination_activity.failure_status END,
    failure_error = ${later} THEN excluded.failure_error ELSE destination_activity.failure_error END,
    failure_ms = ${latest('failure_ms')}`;
}

/**
 * Keeps each destination's last delivered attempt and last failed one as attempts finish (in their transaction), so
 * the destinations page reads one row per destination instead of searching every attempt. One row per destination
 * however many attempts finished; a later attempt never loses to an earlier one, whatever order commits come in.
 */
export function* recordActivity(d: Dialect, finished: readonly FinishedAttempt[]): Script<void> {
  const byDestination = new Map<string, { success?: number; failure?: AttemptRecord }>();
  for (const { destination, attempt } of finished) {
    const entry = byDestination.get(destination) ?? {};
    if (attempt.outcome === 'delivered') entry.success = Math.max(entry.success ?? -Infinity, attempt.startedAt);
    else if (entry.failure === undefined || attempt.startedAt >= entry.failure.startedAt) entry.failure = attempt;
    byDestination.set(destination, entry);
  }
  yield* rows(
    `INSERT INTO destination_activity (destination, shard, success_ms, failure_ms, failure_status, failure_error)
     SELECT r.destination, CAST(? AS INTEGER), r.success_ms, r.failure_ms, r.failure_status, r.failure_error
     FROM :rows AS r WHERE true
     ${mergeActivity(d)}`,
    {
      columns: [
        ['destination', 'text'],
        ['success_ms', 'bigint'],
        ['failure_ms', 'bigint'],
        ['failure_status', 'int'],
        ['failure_error', 'text'],
      ],
      rows: [...byDestination]
        .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
        .map(([destination, e]) => [
          destination,
          e.success ?? null,
          e.failure?.startedAt ?? null,
          e.failure?.status ?? null,
          e.failure?.error ?? null,
        ]),
    },
    [WRITER_SHARD],
  );
}

/** Each writer's shard holds its own last outcomes: the latest of each kind wins. */
function* readActivity(): Script<DestinationActivity[]> {
  const found = yield* all(
    `SELECT destination, success_ms, failure_ms, failure_status, failure_error FROM destination_activity
     ORDER BY destination`,
  );
  // Each writer's shard holds its own last outcomes: the latest of each kind wins.
  const latest = new Map<string, { success?: Row; failure?: Row }>();
  for (const r of found) {
    const entry = latest.get(String(r['destination'])) ?? {};
    if (r['success_ms'] != null && Number(r['success_ms']) > Number(entry.success?.['success_ms'] ?? -Infinity))
      entry.success = r;
    if (r['failure_ms'] != null && Number(r['failure_ms']) > Number(entry.failure?.['failure_ms'] ?? -Infinity))
      entry.failure = r;
    latest.set(String(r['destination']), entry);
  }
  const entries = [...latest.values()];
  return toDestinationActivity(
    entries.flatMap((e) => (e.success ? [{ destination: e.success['destination'], at: e.success['success_ms'] }] : [])),
    entries.flatMap((e) =>
      e.failure
        ? [
            {
              destination: e.failure['destination'],
              started_ms: e.failure['failure_ms'],
              status: e.failure['failure_status'],
              error: e.failure['failure_error'],
            },
          ]
        : [],
    ),
  );
}

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
    readDestinationActivity: () => read(readActivity),
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
