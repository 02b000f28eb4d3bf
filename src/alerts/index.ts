import type { Plan } from '../routing/plan';
import type Database from 'better-sqlite3';
import type { AttemptReport } from '../delivery/worker';
import type { PayoutEvent, RelayEvent } from '../event';
import type { Logger } from '../log';
import type { IngestStore, NewDelivery, NewRejection, SaveOutcome } from '../store/types';
import { buildDatabaseLostEvent } from './build';
import { ConflictAlerter } from './conflicts';
import { DeadDeliveryAlerter } from './dead';
import { RejectionAlerter } from './rejections';

export interface AlertsDeps {
  db: Database.Database;
  store: IngestStore;
  plan: Plan;
  secrets: readonly string[];
  rejectionWindowMs: number;
  logger: Logger;
  onStored: () => void;
  /**
   * Writes an alert through the open handle even though the file is gone:
   * the delivery worker reads the same handle, so the alert still goes out.
   */
  writeDespiteLoss: (event: RelayEvent, deliveries: NewDelivery[]) => void;
}

/** skyrelay's alerts about itself: rejected callbacks (rate-limited), dead deliveries and conflicting copies. */
export function createAlerts(deps: AlertsDeps) {
  const rejections = new RejectionAlerter({ ...deps, windowMs: deps.rejectionWindowMs });
  const dead = new DeadDeliveryAlerter(deps);
  const conflicts = new ConflictAlerter(deps);
  return {
    start: () => rejections.start(),
    onRejected: (rejection: NewRejection) => rejections.onRejected(rejection),
    onAttempt: (report: AttemptReport) => dead.onAttempt(report),
    onStored: (event: PayoutEvent, outcome: SaveOutcome) => conflicts.onStored(event, outcome),
    onDatabaseLost: (reason: string, file: string) => {
      const event = buildDatabaseLostEvent(reason, file, new Date());
      const deliveries = deps.plan(event);
      if (deliveries.length === 0) return;
      try {
        deps.writeDespiteLoss(event, deliveries);
        deps.onStored();
      } catch (err) {
        deps.logger.error({ err }, 'could not raise a database.lost alert; the error log and /healthz carry it');
      }
    },
    stop: async () => {
      await rejections.stop();
      await dead.stop();
      await conflicts.stop();
    },
  };
}

export type Alerts = ReturnType<typeof createAlerts>;
