import type { SystemEvent } from '../event';
import type { Logger } from '../log';
import { Periodic } from '../periodic';
import type { Plan } from '../routing/plan';
import type { ClusterJobs, PayoutStore } from '../store/store';
import { buildStuckEvent } from './events';
import { isStuckCheckOn, stuckCutoffs, type StuckWaits } from './stuck-after';

export interface StuckWatcherOptions {
  /** The waits per state and partner (resolveStuckWaits of payouts.*); all 0 turns the watcher off. */
  waits: StuckWaits;
  /** payouts.checkIntervalMs. */
  checkIntervalMs: number;
}

export interface StuckWatcherDeps {
  store: PayoutStore & ClusterJobs;
  plan: Plan;
  logger: Logger;
  /** Told after each commit that raised events: wakes the delivery worker. */
  onRaised?: (events: SystemEvent[]) => void;
  now?: () => Date;
}

/** The cluster-wide lock (the store's runExclusive): one process of the cluster checks at a time. */
export const STUCK_JOB = 'payouts.stuck';
/** Payouts marked per transaction: a backlog (a long outage, a first start) is worked through in short commits. */
const BATCH = 100;

/**
 * Raises payout.stuck for open payouts that stayed in their state longer than its wait (per state, and per partner
 * where one is configured: stuck-after.ts), once per state. State
 * lives in the store (the payout row remembers which state it was reported stuck in), so a restart or another
 * process taking over never repeats one. payout.unstuck is raised where the final status is stored (the policy).
 */
export class StuckWatcher {
  private readonly periodic: Periodic;

  constructor(
    private readonly deps: StuckWatcherDeps,
    private readonly options: StuckWatcherOptions,
  ) {
    this.periodic = new Periodic(
      { name: 'stuck payout check', intervalMs: options.checkIntervalMs, logger: deps.logger },
      async () => {
        const raised = await this.check();
        if (raised && raised.length > 0) this.deps.logger.info({ count: raised.length }, 'payouts reported stuck');
      },
    );
  }

  start(): void {
    // A first look soon after start, not a whole interval later.
    if (isStuckCheckOn(this.options.waits)) this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One check now, in this process if it gets the lock: the events raised (undefined when another process holds it). */
  async check(): Promise<SystemEvent[] | undefined> {
    const now = this.deps.now?.() ?? new Date();
    return this.deps.store.runExclusive(STUCK_JOB, async () => {
      const raised: SystemEvent[] = [];
      for (;;) {
        const batch = await this.deps.store.raiseStuckPayouts({
          cutoffs: stuckCutoffs(this.options.waits, now.getTime()),
          limit: BATCH,
          build: (payout) => buildStuckEvent(payout, now),
          plan: this.deps.plan,
        });
        raised.push(...batch);
        if (batch.length > 0) this.deps.onRaised?.(batch);
        if (batch.length < BATCH || this.periodic.stopping) return raised;
      }
    });
  }
}
