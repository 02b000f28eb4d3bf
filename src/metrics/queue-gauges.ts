import type Database from 'better-sqlite3';
import type { MetricFamily } from './samples';

/**
 * The outbox's state, read from SQLite at scrape time: the same numbers
 * whichever process answers, and right even after a CLI replay.
 */
export function prepareQueueGauges(db: Database.Database, destinations: readonly string[]) {
  const byState = db.prepare(`SELECT destination, state, count(*) AS n FROM deliveries
    WHERE state IN ('pending', 'inflight', 'dead') GROUP BY destination, state`);
  const oldest = db.prepare(`SELECT min(created_ms) FROM deliveries WHERE state IN ('pending', 'inflight')`).pluck();

  return (now: number): MetricFamily[] => {
    const pending = new Map<string, number>(destinations.map((d) => [d, 0]));
    const dead = new Map<string, number>(destinations.map((d) => [d, 0]));
    for (const r of byState.all() as { destination: string; state: string; n: number }[]) {
      const target = r.state === 'dead' ? dead : pending;
      target.set(r.destination, (target.get(r.destination) ?? 0) + r.n);
    }
    const since = oldest.get() as number | null;
    const gauge = (name: string, help: string, values: Map<string, number>): MetricFamily => ({
      name,
      help,
      type: 'gauge',
      aggregator: 'first',
      values: [...values].map(([destination, value]) => ({ value, labels: { destination } })),
    });
    return [
      gauge(
        'skyrelay_deliveries_pending',
        'Deliveries not yet finished (pending or in flight), by destination',
        pending,
      ),
      gauge(
        'skyrelay_deliveries_dead',
        'Deliveries that gave up and wait for a replay or retention, by destination',
        dead,
      ),
      {
        name: 'skyrelay_oldest_pending_delivery_age_seconds',
        help: 'Age of the oldest unfinished delivery (0 when none)',
        type: 'gauge',
        aggregator: 'first',
        values: [{ value: since === null ? 0 : Math.max(0, (now - since) / 1000), labels: {} }],
      },
    ];
  };
}
