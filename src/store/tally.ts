import { sumTally } from '../ledger/decisions';
import type { TallyEntry } from '../ledger/types';
import { rows, run, type Script } from './sql';

/**
 * The callback tally the ledger counts acknowledged callbacks by: per quarter hour (every zone's midnight falls on
 * one), partner and outcome, added to in the transaction that stores the callbacks, so what was answered 1000 and
 * what was counted cannot differ.
 */

/**
 * One upsert for a batch, its rows in key order (sumTally): batches of several processes add to the same rows in the
 * same order, so they queue on each other's row locks and never deadlock.
 */
export function* tallyCallbacks(entries: readonly TallyEntry[]): Script<void> {
  yield* rows(
    `INSERT INTO callback_tally (quarter_ms, partner, outcome, count)
     SELECT r.quarter_ms, r.partner, r.outcome, r.n FROM :rows AS r WHERE true
     ON CONFLICT (quarter_ms, partner, outcome) DO UPDATE SET count = callback_tally.count + excluded.count`,
    {
      columns: [
        ['quarter_ms', 'bigint'],
        ['partner', 'text'],
        ['outcome', 'text'],
        ['n', 'bigint'],
      ],
      rows: sumTally(entries),
    },
  );
}

/** Retention: quarters older than the events kept go with them, a bounded batch at a time. */
export function* pruneTally(beforeMs: number, limit: number): Script<number> {
  return yield* run(
    `DELETE FROM callback_tally WHERE (quarter_ms, partner, outcome) IN (
       SELECT quarter_ms, partner, outcome FROM callback_tally WHERE quarter_ms < ? LIMIT ?)`,
    [beforeMs, limit],
  );
}
