import type { RelayEvent } from '../event';
import type { EventOrigin, TallyEntry, TallyOutcome } from './types';

/**
 * Pure arithmetic of the ledger that the store runs in the transaction storing callbacks: where an event came from,
 * and how a batch's acknowledged callbacks add up in the tally (src/store/tally.ts writes the sums).
 */

/** Where an event came from, as the ledger counts it. */
export function originOf(event: RelayEvent): EventOrigin {
  if (event.source === 'skyrelay') return 'skyrelay';
  return event.type === 'payout' && event.origin === 'reconciliation' ? 'reconciliation' : 'callback';
}

/** The tally's bucket: a quarter hour, on which every zone's midnight falls. */
export const TALLY_QUARTER_MS = 15 * 60_000;

/** One row of the tally to add: a quarter, a partner, an outcome, and how many of them the batch had. */
export type TallySum = [quarterMs: number, partner: string, outcome: TallyOutcome, count: number];

/**
 * A batch's entries summed per quarter, partner and outcome, in key order (quarter, then partner and outcome by
 * code unit): batches of several processes then add to the same rows in the same order, so they queue on each
 * other's row locks and never deadlock.
 */
export function sumTally(entries: readonly TallyEntry[]): TallySum[] {
  const sums = new Map<string, TallySum>();
  for (const e of entries) {
    const quarter = Math.floor(e.receivedMs / TALLY_QUARTER_MS) * TALLY_QUARTER_MS;
    const key = JSON.stringify([quarter, e.partner, e.outcome]);
    const found = sums.get(key);
    if (found) found[3] += 1;
    else sums.set(key, [quarter, e.partner, e.outcome, 1]);
  }
  return [...sums.values()].sort((a, b) =>
    a[0] !== b[0] ? a[0] - b[0] : a[1] !== b[1] ? (a[1] < b[1] ? -1 : 1) : a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0,
  );
}
