import type { Config } from '../config/schema';
import type { Logger } from '../log';
import { createStatusQueryClient } from '../skypay/status-query';
import { parseOffsetMinutes } from '../skypay/time';
import type { Store } from '../store';
import type { PayoutPolicy } from '../store/types';
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
      logger,
      ...hooks,
    },
    { intervalMs, minAgeMs, batchSize },
  );
}
