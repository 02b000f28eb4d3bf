import type Database from 'better-sqlite3';
import type { Logger } from '../log';

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
export interface PruneCutoffs {
  eventsBeforeMs: number;
  rejectionsBeforeMs: number;
  /** Undefined: callback identities are kept forever. */
  keysBeforeMs?: number;
}

export interface PruneCounts {
  events: number;
  deliveries: number;
  attempts: number;
  rejections: number;
  /** Callback identities (dedup keys) removed. */
  keys: number;
}

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

const PRUNABLE_EVENTS = `SELECT id FROM events e WHERE e.received_ms < @before
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state IN ('pending', 'inflight'))`;

export function preparePruner(db: Database.Database) {
  const pickEvents = db.prepare(`${PRUNABLE_EVENTS} LIMIT @limit`).pluck();
  const inIds = 'IN (SELECT value FROM json_each(@ids))';
  const dropAttempts = db.prepare(
    `DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id ${inIds})`,
  );
  const dropDeliveries = db.prepare(`DELETE FROM deliveries WHERE event_id ${inIds}`);
  const dropEvents = db.prepare(`DELETE FROM events WHERE id ${inIds}`);
  const dropCopies = db.prepare(`DELETE FROM callback_copies WHERE event_id ${inIds}`);
  // A copy that arrived after its event was pruned has no event to go with: it goes by its own age.
  const dropOrphanCopies = db.prepare(`DELETE FROM callback_copies WHERE id IN (SELECT c.id FROM callback_copies c
    WHERE c.received_ms < @before AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = c.event_id) LIMIT @limit)`);
  // A key whose event is still kept (a pending delivery, a longer event retention) is what dedups it: it stays.
  const dropKeys = db.prepare(`DELETE FROM callback_keys WHERE (partner, control_number, pay_type, deal_time) IN (
    SELECT partner, control_number, pay_type, deal_time FROM callback_keys k
    WHERE k.received_ms < @before AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = k.event_id) LIMIT @limit)`);
  const dropRejections = db.prepare(
    'DELETE FROM rejections WHERE id IN (SELECT id FROM rejections WHERE received_ms < @before LIMIT @limit)',
  );
  const countEvents = db.prepare(`SELECT count(*) FROM (${PRUNABLE_EVENTS})`).pluck();
  const countRejections = db.prepare('SELECT count(*) FROM rejections WHERE received_ms < @before').pluck();

  /** One transaction: at most `limit` events (with their rows) and `limit` rejections. */
  const batch = db.transaction((cut: PruneCutoffs, limit: number): PruneCounts => {
    const ids = JSON.stringify(pickEvents.all({ before: cut.eventsBeforeMs, limit }));
    const attempts = dropAttempts.run({ ids }).changes;
    const deliveries = dropDeliveries.run({ ids }).changes;
    const events = dropEvents.run({ ids }).changes;
    dropCopies.run({ ids });
    dropOrphanCopies.run({ before: cut.eventsBeforeMs, limit });
    const rejections = dropRejections.run({ before: cut.rejectionsBeforeMs, limit }).changes;
    const keys = cut.keysBeforeMs === undefined ? 0 : dropKeys.run({ before: cut.keysBeforeMs, limit }).changes;
    return { events, deliveries, attempts, rejections, keys };
  });

  return {
    batch: (cut: PruneCutoffs, limit: number) => batch.immediate(cut, limit),
    /** What a prune would delete now (deliveries and attempts not counted): for --dry-run. */
    count: (cut: PruneCutoffs) => ({
      events: countEvents.get({ before: cut.eventsBeforeMs }) as number,
      rejections: countRejections.get({ before: cut.rejectionsBeforeMs }) as number,
    }),
  };
}

/** Prunes batch after batch until nothing is left or `shouldStop` says so. */
export async function pruneAll(
  db: Database.Database,
  cut: PruneCutoffs,
  options: { batchSize: number; shouldStop?: () => boolean },
): Promise<PruneCounts> {
  const pruner = preparePruner(db);
  const total: PruneCounts = { events: 0, deliveries: 0, attempts: 0, rejections: 0, keys: 0 };
  for (;;) {
    const n = pruner.batch(cut, options.batchSize);
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
  dedupRetentionDays?: number;
  intervalMs: number;
  batchSize: number;
}

/** The daemon's periodic prune: first run shortly after start, then every intervalMs. */
export function startRetentionJob(db: Database.Database, options: RetentionJobOptions, logger: Logger) {
  let stopped = false;
  let running: Promise<void> | undefined;
  const run = async (): Promise<void> => {
    try {
      const cut = cutoffsFor(
        options.retentionDays,
        options.rejectionRetentionDays,
        Date.now(),
        options.dedupRetentionDays,
      );
      const n = await pruneAll(db, cut, { batchSize: options.batchSize, shouldStop: () => stopped });
      if (n.events + n.rejections + n.keys > 0) logger.info({ ...n }, 'retention pruned old rows');
    } catch (err) {
      logger.error({ err }, 'retention job failed; will try again');
    }
  };
  const tick = (): void => {
    if (stopped || running) return;
    running = run().finally(() => {
      running = undefined;
    });
  };
  const first = setTimeout(tick, Math.min(options.intervalMs, 5_000));
  const timer = setInterval(tick, options.intervalMs);
  first.unref();
  timer.unref();
  return {
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
