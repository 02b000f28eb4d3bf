import type Database from 'better-sqlite3';
import type { AttemptReport } from '../delivery/worker';
import type { RelayEvent } from '../event';
import type { Logger } from '../log';
import type { IngestStore, NewDelivery, NewRejection } from '../store/types';
import { DeadDeliveryAlerter } from './dead';
import { RejectionAlerter } from './rejections';

export interface AlertsDeps {
  db: Database.Database;
  store: IngestStore;
  plan: (event: RelayEvent) => NewDelivery[];
  secrets: readonly string[];
  rejectionWindowMs: number;
  logger: Logger;
  onStored: () => void;
}

/** skyrelay's alerts about itself: refused callbacks (rate-limited) and dead deliveries. */
export function createAlerts(deps: AlertsDeps) {
  const rejections = new RejectionAlerter({ ...deps, windowMs: deps.rejectionWindowMs });
  const dead = new DeadDeliveryAlerter(deps);
  return {
    start: () => rejections.start(),
    onRefused: (rejection: NewRejection) => rejections.onRefused(rejection),
    onAttempt: (report: AttemptReport) => dead.onAttempt(report),
    stop: async () => {
      await rejections.stop();
      await dead.stop();
    },
  };
}

export type Alerts = ReturnType<typeof createAlerts>;
