import type { Config } from '../config/schema';
import { resolveBreakers } from '../destinations/breaker';
import { resolveMinIntervals } from '../destinations/rate';
import { resolveOrdering } from '../destinations/ordering';
import type { Destination } from '../destinations/types';
import type { Logger } from '../log';
import type { RuntimeEvents } from '../runtime/events';
import type { BreakerStore, OutboxStore, RateLimitStore } from '../store/store';
import { Breakers } from './breaker';
import { DeliveryWorker } from './worker';

export interface WorkerComponentDeps {
  config: Config;
  store: OutboxStore & RateLimitStore & BreakerStore;
  destinations: ReadonlyMap<string, Destination>;
  secrets: readonly string[];
  events: RuntimeEvents;
  logger: Logger;
}

/**
 * The delivery worker: sends what ingest handed over (told on the bus after each commit), claims the rest, and is
 * woken by other processes' work (PostgreSQL's LISTEN/NOTIFY; SQLite's worker polls). Without the delivery role
 * deliveries are written for other instances to send, and the worker stays idle.
 */
export function workerComponent(deps: WorkerComponentDeps) {
  const { config, store, events } = deps;
  const breakers = new Breakers({
    store,
    settings: resolveBreakers(config.destinations),
    types: new Map(Object.entries(config.destinations).map(([name, d]) => [name, d.type])),
    logger: deps.logger,
    onChange: (change) => events.emit('destination.breaker', change),
    refreshMs: config.delivery.pollIntervalMs,
  });
  const worker = new DeliveryWorker(
    {
      store,
      destinations: deps.destinations,
      destinationLimits: destinationLimits(config),
      minIntervals: resolveMinIntervals(config.destinations),
      ordering: resolveOrdering(config.destinations),
      logger: deps.logger,
      secrets: deps.secrets,
      onAttempt: (report) => events.emit('delivery.attempt', report),
      breakers,
    },
    config.delivery,
  );
  const off: (() => void)[] = [];
  const sends = config.roles.includes('delivery');
  return {
    name: 'delivery worker',
    worker,
    /** What ingest asks for in its transaction: this worker's lease, where it sends. */
    lease: sends ? () => worker.leaseForIngest() : undefined,
    start: async () => {
      if (!sends) return;
      await breakers.start();
      off.push(
        events.on('event.stored', ({ event, outcome, deliveries }) => {
          worker.takeLeased(event, outcome, deliveries);
          if (!outcome.duplicate && deliveries.length > (outcome.leased?.length ?? 0)) worker.notify();
        }),
        store.onNewWork(() => worker.notify()),
      );
      worker.start();
    },
    stop: async () => {
      for (const unsubscribe of off.splice(0)) unsubscribe();
      await worker.stop();
      breakers.stop();
    },
  };
}

/** Each destination's own maxInFlight, where it sets one; the worker's default covers the rest. */
function destinationLimits(config: Config): Map<string, number> {
  const limits = new Map<string, number>();
  for (const [name, d] of Object.entries(config.destinations)) if (d.maxInFlight) limits.set(name, d.maxInFlight);
  return limits;
}
