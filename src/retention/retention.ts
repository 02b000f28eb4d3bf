import type { Logger } from '../log';
import { Periodic } from '../periodic';
import type { ClusterJobs, RetentionStore } from '../store/store';
import type { PruneCounts, PruneCutoffs } from './types';

/**
 * Retention: events older than the cut-off go with their deliveries,
 * attempts and conflicting copies, unless one of their deliveries is still
 * pending or in flight; refused callbacks have their own, shorter cut-off.
 * Callback identities (the dedup keys) stay, by default forever, so a
 * replay of a pruned callback is still a duplicate; with a cut-off of their
 * own they go only once their event has gone. Work is done in small
 * transactions with a yield between them, so callbacks waiting for the write
 * lock never wait for more than one batch.
 */
const DAY_MS = 86_400_000;

export function cutoffsFor(
  retentionDays: number,
  rejectionRetentionDays: number,
  now = Date.now(),
  dedupRetentionDays?: number,
): PruneCutoffs {
  return {
    eventsBeforeMs: now - retentionDays * DAY_MS,
    rejectionsBeforeMs: now - rejectionRetentionDays * DAY_MS,
    ...(dedupRetentionDays === undefined ? {} : { keysBeforeMs: now - dedupRetentionDays * DAY_MS }),
  };
}

/** Prunes batch after batch until nothing is left or `shouldStop` says so. */
export async function pruneAll(
  store: RetentionStore,
  cut: PruneCutoffs,
  options: { batchSize: number; shouldStop?: () => boolean },
): Promise<PruneCounts> {
  const total: PruneCounts = { events: 0, deliveries: 0, attempts: 0, rejections: 0, keys: 0 };
  for (;;) {
    const n = await store.pruneBatch(cut, options.batchSize);
    total.events += n.events;
    total.deliveries += n.deliveries;
    total.attempts += n.attempts;
    total.rejections += n.rejections;
    total.keys += n.keys;
    if (n.events < options.batchSize && n.rejections < options.batchSize && n.keys < options.batchSize) return total;
    if (options.shouldStop?.()) return total;
    // Let queued callbacks take the write lock between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export interface RetentionJobOptions {
  retentionDays: number;
  rejectionRetentionDays: number;
  /** Undefined: callback identities are kept forever. */
  dedupRetentionDays?: number | undefined;
  intervalMs: number;
  batchSize: number;
}

/** The lock that keeps two processes (pm2 cluster workers, hosts) from pruning at once. */
export const RETENTION_JOB = 'retention';

/** The daemon's periodic prune: first run shortly after start, then every intervalMs, in one process at a time. */
export function startRetentionJob(store: RetentionStore & ClusterJobs, options: RetentionJobOptions, logger: Logger) {
  const job: Periodic = new Periodic(
    // The first run waits a little: start-up (migrations, other processes starting) goes first.
    {
      name: 'retention job',
      intervalMs: options.intervalMs,
      firstDelayMs: Math.min(options.intervalMs, 5_000),
      logger,
    },
    async () => {
      const cut = cutoffsFor(
        options.retentionDays,
        options.rejectionRetentionDays,
        Date.now(),
        options.dedupRetentionDays,
      );
      const n = await store.runExclusive(RETENTION_JOB, () =>
        pruneAll(store, cut, { batchSize: options.batchSize, shouldStop: () => job.stopping }),
      );
      if (n && n.events + n.rejections + n.keys > 0) logger.info({ ...n }, 'retention pruned old rows');
    },
  );
  job.start();
  return { stop: () => job.stop() };
}

/** The retention component: store.retention* settings, the job started and stopped with the daemon. */
export function retentionComponent(deps: {
  config: {
    store: {
      retentionDays: number;
      rejectionRetentionDays: number;
      dedupRetentionDays?: number | undefined;
      retentionIntervalMs: number;
      retentionBatchSize: number;
    };
  };
  store: RetentionStore & ClusterJobs;
  logger: Logger;
}) {
  const { store, logger } = deps;
  const settings = deps.config.store;
  let job: ReturnType<typeof startRetentionJob> | undefined;
  return {
    name: 'retention',
    start: () => {
      job = startRetentionJob(
        store,
        {
          retentionDays: settings.retentionDays,
          rejectionRetentionDays: settings.rejectionRetentionDays,
          dedupRetentionDays: settings.dedupRetentionDays,
          intervalMs: settings.retentionIntervalMs,
          batchSize: settings.retentionBatchSize,
        },
        logger,
      );
    },
    stop: () => job?.stop(),
  };
}
