import type { Config } from '../config/schema';
import type { PayoutPolicyOptions } from './policy';
import type { Logger } from '../log';
import { createStatusQueryClient } from '../skypay/status-query';
import { parseOffsetMinutes } from '../skypay/time';
import type { Store } from '../store';
import type { PayoutPolicy } from './types';
import { Reconciler, type ReconcilerDeps } from './reconciler';

/**
 * The reconciler skypay.statusQuery describes, for the daemon and `skyrelay reconcile`; undefined while the query is
 * off (no url). The config loader has already checked the partner and its keys.
 */
export function createReconciler(
  config: Config,
  store: Store,
  policy: PayoutPolicy,
  logger: Logger,
  hooks: Pick<ReconcilerDeps, 'onStored' | 'onQuery' | 'onResult'> = {},
): Reconciler | undefined {
  const client = createStatusQueryClient(config.skypay);
  const { partner, intervalMs, minAgeMs, batchSize } = config.skypay.statusQuery;
  if (!client || partner === undefined) return undefined;
  return new Reconciler(
    {
      store,
      client,
      partner,
      policy,
      offsetMinutes: parseOffsetMinutes(config.skypay.timezone),
      dealTimeWindow: { maxAgeDays: config.skypay.maxAgeDays, maxFutureMinutes: config.skypay.maxFutureMinutes },
      logger,
      ...hooks,
    },
    { intervalMs, minAgeMs, batchSize },
  );
}

/**
 * What the payout policy needs to know of the status query: whose final statuses it will confirm (none while it is
 * off). Every policy of the daemon and the CLI takes it from here, so they judge confirmation alike.
 */
export function confirmationOptions(config: Config): PayoutPolicyOptions {
  const { url, partner } = config.skypay.statusQuery;
  return { statusQueryPartner: url === undefined ? undefined : partner };
}
