import { BREAKER_STATES, type BreakerRecord, type BreakerState } from '../delivery/types';
import type { QueueState } from '../store/store';
import type { MetricFamily } from './types';

/**
 * The outbox gauges from the store's queue state, read at scrape time: the
 * same numbers whichever process answers, and right even after a CLI replay.
 * Pure: every configured destination shows, at 0 when it has nothing queued.
 */
export function queueGauges(state: QueueState, destinations: readonly string[], now: number): MetricFamily[] {
  const pending = new Map<string, number>(destinations.map((d) => [d, 0]));
  const dead = new Map<string, number>(destinations.map((d) => [d, 0]));
  for (const r of state.byDestination) {
    const target = r.state === 'dead' ? dead : pending;
    target.set(r.destination, (target.get(r.destination) ?? 0) + r.count);
  }
  const since = state.oldestUnfinishedMs;
  const gauge = (name: string, help: string, values: Map<string, number>): MetricFamily => ({
    name,
    help,
    type: 'gauge',
    aggregator: 'first',
    values: [...values].map(([destination, value]) => ({ value, labels: { destination } })),
  });
  return [
    gauge('skyrelay_deliveries_pending', 'Deliveries not yet finished (pending or in flight), by destination', pending),
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
      values: [{ value: since === undefined ? 0 : Math.max(0, (now - since) / 1000), labels: {} }],
    },
  ];
}

/**
 * skyrelay_destination_state{destination,state}: 1 for each destination's breaker state now, 0 for the others, so
 * an alert rule can say `skyrelay_destination_state{state!="closed"} == 1`. Every configured destination shows
 * (closed when it never failed); a destination no longer configured shows while it has a state on record.
 */
export function breakerGauges(records: readonly BreakerRecord[], destinations: readonly string[]): MetricFamily[] {
  const stateOf = new Map<string, BreakerState>(destinations.map((d) => [d, 'closed']));
  for (const r of records) stateOf.set(r.destination, r.state);
  return [
    {
      name: 'skyrelay_destination_state',
      help: "Each destination's breaker: 1 for its current state (closed, open or paused), 0 for the others",
      type: 'gauge',
      aggregator: 'first',
      values: [...stateOf].flatMap(([destination, current]) =>
        BREAKER_STATES.map((state) => ({ value: state === current ? 1 : 0, labels: { destination, state } })),
      ),
    },
  ];
}
