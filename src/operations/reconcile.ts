import { Silences } from '../alerts/silences';
import type { Config } from '../config/schema';
import type { Logger } from '../log';
import { createPayoutPolicy } from '../payouts/policy';
import { confirmationOptions, createReconciler, type RoundOptions, type RoundReport } from '../payouts/reconciler';
import { createPlanner } from '../routing/plan';
import { withOrdering } from '../routing/ordering';
import { resolveOrdering } from '../destinations/ordering';
import type { Store } from '../store';
import { RefusedError } from './errors';

export type { ReconcileItem, RoundReport } from '../payouts/reconciler';

/** RefusedError unless skypay.statusQuery is set: checked before anything is opened. */
export function requireStatusQuery(config: Config): void {
  if (config.skypay.statusQuery.url === undefined) {
    throw new RefusedError(
      'skypay.statusQuery is not configured: set skypay.statusQuery.url and skypay.statusQuery.partner',
    );
  }
}

/**
 * One reconciliation round now, as the daemon runs it: SkyPay's status query asked about open payouts (or the
 * control numbers given), active silences holding back what it stores. A dry run writes nothing; a real one runs only
 * where no other process is reconciling (RefusedError).
 */
export async function reconcileNow(
  store: Store,
  config: Config,
  logger: Logger,
  options: RoundOptions,
): Promise<RoundReport> {
  requireStatusQuery(config);
  const silences = new Silences({
    store,
    // A status it recovers takes its place in the payout's order at an ordered destination, as the daemon's would.
    plan: withOrdering(createPlanner(config.rules).plan, resolveOrdering(config.destinations)),
    typeOf: (name) => config.destinations[name]?.type,
    refreshIntervalMs: config.silences.refreshIntervalMs,
    logger,
  });
  await silences.start();
  try {
    const policy = createPayoutPolicy(silences.plan, undefined, confirmationOptions(config));
    const reconciler = createReconciler(config, store, policy, logger);
    if (!reconciler) throw new RefusedError('skypay.statusQuery is not configured');
    if (options.dryRun) return await reconciler.round(options);
    const done = await reconciler.runExclusive(options);
    if (!done) throw new RefusedError('another skyrelay process is reconciling right now; try again shortly');
    return done;
  } finally {
    await silences.stop();
  }
}
