import type { Config } from '../config/schema';
import type { Logger } from '../log';
import type { Plan } from '../routing/plan';
import type { RuntimeEvents } from '../runtime/events';
import type { Store } from '../store';
import { createPayoutPolicy } from './policy';
import { confirmationOptions, createReconciler, type Reconciler } from './reconciler';
import { resolveStuckWaits } from './stuck-after';
import { StuckWatcher } from './stuck';
import type { PayoutPolicy } from './types';

export interface PayoutsDeps {
  config: Config;
  store: Store;
  /** How new events are routed (the rules, less what an active silence holds back). */
  plan: Plan;
  events: RuntimeEvents;
  logger: Logger;
  /** Wakes the delivery worker: what a check or a round stored has deliveries to send. */
  wake: () => void;
}

/** The payout lifecycle every process judges with, confirmation by the status query included. */
export function payoutPolicyOf(config: Config, plan: Plan): PayoutPolicy {
  return createPayoutPolicy(plan, undefined, confirmationOptions(config));
}

/** The stuck check: every payouts.checkIntervalMs, in one process of the cluster at a time. */
export function stuckComponent(deps: PayoutsDeps) {
  const { config } = deps;
  const stuck = new StuckWatcher(
    { store: deps.store, plan: deps.plan, logger: deps.logger, onRaised: () => deps.wake() },
    { waits: resolveStuckWaits(config.payouts), checkIntervalMs: config.payouts.checkIntervalMs },
  );
  return { name: 'stuck payouts', start: () => stuck.start(), stop: () => stuck.stop() };
}

/**
 * Reconciliation with SkyPay's status query, telling the bus what it stored, asked and found; undefined while
 * skypay.statusQuery.url is unset.
 */
export function reconcilerComponent(deps: PayoutsDeps): Reconciler | undefined {
  const { events } = deps;
  return createReconciler(deps.config, deps.store, payoutPolicyOf(deps.config, deps.plan), deps.logger, {
    onStored: (event, outcome, deliveries) => {
      if (!outcome.duplicate && deliveries > 0) deps.wake();
      if (event.source === 'skypay') events.emit('event.stored', { event, outcome, deliveries: [] });
    },
    onQuery: (outcome) => events.emit('status.query', { outcome }),
    onResult: (outcome, anomaly) => events.emit('payout.reconciled', { outcome, anomaly }),
  });
}
