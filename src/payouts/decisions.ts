import type { PayoutHistoryEntry } from '../event';

/** Pure decisions about payouts that the store runs while it reads them (src/store/rows.ts, src/store/payouts.ts). */

/** A timeline in order: by dealTime (SkyPay's text sorts as time), then by when each arrived. */
export function sortHistory(entries: PayoutHistoryEntry[]): PayoutHistoryEntry[] {
  return entries.sort((a, b) =>
    a.dealTime === b.dealTime ? a.receivedAt.localeCompare(b.receivedAt) : a.dealTime < b.dealTime ? -1 : 1,
  );
}
