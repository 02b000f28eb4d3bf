import type Database from 'better-sqlite3';
import type { PruneCounts, PruneCutoffs } from '../types';

/**
 * Retention's SQL (the policy and the loop are in ../retention.ts). Events older than the cut-off go with their
 * deliveries, attempts and conflicting copies, unless one of their deliveries is still pending or in flight.
 */
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
  const dropSilenced = db.prepare(`DELETE FROM event_silences WHERE event_id ${inIds}`);
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
    dropSilenced.run({ ids });
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
