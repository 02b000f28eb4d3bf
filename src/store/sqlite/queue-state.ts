import type Database from 'better-sqlite3';
import type { QueueState } from '../store';
import type { DeliveryState } from '../types';

/** The outbox's state for /metrics, read at scrape time: the same numbers whichever process answers. */
export function prepareQueueState(db: Database.Database) {
  const byState = db.prepare(`SELECT destination, state, count(*) AS n FROM deliveries
    WHERE state IN ('pending', 'inflight', 'dead') GROUP BY destination, state`);
  const oldest = db.prepare(`SELECT min(created_ms) FROM deliveries WHERE state IN ('pending', 'inflight')`).pluck();
  return (): QueueState => ({
    byDestination: (byState.all() as { destination: string; state: DeliveryState; n: number }[]).map((r) => ({
      destination: r.destination,
      state: r.state,
      count: r.n,
    })),
    oldestUnfinishedMs: (oldest.get() as number | null) ?? undefined,
  });
}
