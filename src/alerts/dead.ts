import type { Plan } from '../routing/plan';
import type { AttemptReport } from '../delivery/types';
import type { Logger } from '../log';
import type { IngestStore, OrderingStore } from '../store/store';
import { buildDeadDeliveryEvent, carriesDeadAlert } from './build';

export interface DeadAlertDeps {
  store: IngestStore & Pick<OrderingStore, 'countWaitingBehind'>;
  plan: Plan;
  logger: Logger;
  onStored: () => void;
}

/**
 * Raises a `delivery.dead` event when a delivery gives up, so rules can tell
 * someone by another way. Only the process whose attempt killed the delivery
 * hears of it, so each death raises one event.
 */
export class DeadDeliveryAlerter {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: DeadAlertDeps) {}

  onAttempt(report: AttemptReport): void {
    if (report.next.state !== 'dead' || carriesDeadAlert(report)) return;
    const work = this.raise(report).catch((err: unknown) =>
      this.deps.logger.error({ err, deliveryId: report.delivery.id }, 'could not raise a delivery.dead alert'),
    );
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  async stop(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async raise(report: AttemptReport): Promise<void> {
    const event = buildDeadDeliveryEvent(report, new Date(), await this.countWaiting(report));
    const deliveries = this.deps.plan(event);
    if (deliveries.length === 0) return;
    await this.deps.store.saveEvent(event, deliveries);
    this.deps.onStored();
  }

  /** With orderedOnDead "hold": how many of the payout's later deliveries wait behind the dead one, if it can tell. */
  private async countWaiting(report: AttemptReport): Promise<number | undefined> {
    if (report.orderedOnDead !== 'hold') return undefined;
    try {
      return await this.deps.store.countWaitingBehind(report.delivery.id);
    } catch (err) {
      // The alert goes out without the count rather than not at all.
      this.deps.logger.warn({ err, deliveryId: report.delivery.id }, 'could not count the deliveries held behind');
      return undefined;
    }
  }
}
