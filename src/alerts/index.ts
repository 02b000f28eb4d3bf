import type { Config } from '../config/schema';
import type { Plan } from '../routing/plan';
import type { AttemptReport, BreakerChange } from '../delivery/types';
import type { CallbackEvent } from '../event';
import type { Logger } from '../log';
import type { AlertWindowStore, ClusterJobs, IngestStore, OrderingStore } from '../store/store';
import type { NewRejection, SaveOutcome } from '../ingest/types';
import { buildDatabaseLostEvent } from './build';
import { BreakerAlerter } from './breaker';
import { ConflictAlerter } from './conflicts';
import { DeadDeliveryAlerter } from './dead';
import { RejectionAlerter } from './rejections';
import type { RuntimeEvents } from '../runtime/events';

export interface AlertsDeps {
  store: IngestStore & AlertWindowStore & ClusterJobs & Pick<OrderingStore, 'countWaitingBehind'>;
  plan: Plan;
  secrets: readonly string[];
  rejectionWindowMs: number;
  logger: Logger;
  onStored: () => void;
}

/** skyrelay's alerts about itself: rejected callbacks (rate-limited), dead deliveries and conflicting copies. */
export function createAlerts(deps: AlertsDeps) {
  const rejections = new RejectionAlerter({ ...deps, windowMs: deps.rejectionWindowMs });
  const dead = new DeadDeliveryAlerter(deps);
  const conflicts = new ConflictAlerter(deps);
  const breakers = new BreakerAlerter(deps);
  return {
    start: () => rejections.start(),
    onRejected: (rejection: NewRejection) => rejections.onRejected(rejection),
    onAttempt: (report: AttemptReport) => dead.onAttempt(report),
    onStored: (event: CallbackEvent, outcome: SaveOutcome) => conflicts.onStored(event, outcome),
    onBreakerChange: (change: BreakerChange) => breakers.onChange(change),
    onDatabaseLost: (reason: string, file: string) => {
      const event = buildDatabaseLostEvent(reason, file, new Date());
      const deliveries = deps.plan(event);
      if (deliveries.length === 0) return;
      // Through what is still open although the file is gone: the worker reads the same handle, so it goes out.
      deps.store.saveEventDespiteLoss(event, deliveries).then(deps.onStored, (err: unknown) => {
        deps.logger.error({ err }, 'could not raise a database.lost alert; the error log and /healthz carry it');
      });
    },
    stop: async () => {
      await rejections.stop();
      await dead.stop();
      await conflicts.stop();
      await breakers.stop();
    },
  };
}

export type Alerts = ReturnType<typeof createAlerts>;

/**
 * The alerts component: hears rejections, attempts, conflicting copies and a lost database on the bus, and raises
 * skyrelay's own events for them. Only where some rule routes skyrelay's events: otherwise nothing would carry them.
 */
export function alertsComponent(
  deps: Omit<AlertsDeps, 'rejectionWindowMs' | 'onStored'> & {
    config: Config;
    events: RuntimeEvents;
    wake: () => void;
  },
) {
  const alerts = createAlerts({
    ...deps,
    rejectionWindowMs: deps.config.alerts.rejectionWindowMs,
    onStored: deps.wake,
  });
  const databasePath = deps.config.store.path;
  const off: (() => void)[] = [];
  return {
    name: 'alerts',
    start: () => {
      const { events } = deps;
      off.push(
        events.on('callback.rejection', (rejection) => alerts.onRejected(rejection)),
        events.on('delivery.attempt', (report) => alerts.onAttempt(report)),
        events.on('event.stored', ({ event, outcome }) => {
          if (outcome.conflict && event.source === 'skypay') alerts.onStored(event, outcome);
        }),
        events.on('store.lost', ({ reason }) => alerts.onDatabaseLost(reason, databasePath)),
        events.on('destination.breaker', (change) => alerts.onBreakerChange(change)),
      );
      alerts.start();
    },
    stop: async () => {
      for (const unsubscribe of off.splice(0)) unsubscribe();
      await alerts.stop();
    },
  };
}
