import { buildLedger, dayWindow, yesterdayOf } from '../ledger/balance';
import type { Ledger } from '../ledger/types';
import { parseOffsetMinutes } from '../skypay/time';
import type { LedgerStore } from '../store/store';
import { FilterError } from './filters';

export interface LedgerDeps {
  store: LedgerStore;
  /** skypay.timezone: days begin at its midnight. */
  timezone: string;
  /** store.retentionDays: an older day's events are gone, so its ledger cannot balance. */
  retentionDays: number;
  now?: () => number;
}

export interface LedgerRequest {
  /** YYYY-MM-DD in skypay.timezone; yesterday when absent. */
  day?: string | undefined;
  /** A partner's (SkyPay userName) callbacks, events, routes and payouts only. */
  partner?: string | undefined;
}

const DAY_MS = 86_400_000;

/**
 * The ledger use case the CLI (`skyrelay ledger`), the admin API (GET /admin/ledger), the dashboard's Ledger page
 * and the daily summary share: one day's stored rows added up and judged (src/ledger/balance.ts).
 */
export class LedgerOperations {
  private readonly offsetMinutes: number;

  constructor(private readonly deps: LedgerDeps) {
    this.offsetMinutes = parseOffsetMinutes(deps.timezone);
  }

  /** Yesterday in skypay.timezone: the day shown when none is asked for. */
  defaultDay(): string {
    return yesterdayOf(this.now(), this.offsetMinutes);
  }

  async compute(request: LedgerRequest = {}): Promise<Ledger> {
    const now = this.now();
    const dayText = request.day ?? this.defaultDay();
    const day = dayWindow(dayText, this.offsetMinutes);
    if (day === undefined) throw new FilterError(`day: expected a date as YYYY-MM-DD, got ${JSON.stringify(dayText)}`);
    if (day.startMs > now) throw new FilterError(`day: ${dayText} has not begun in ${this.deps.timezone}`);
    if (day.endMs <= now - this.deps.retentionDays * DAY_MS) {
      throw new FilterError(
        `day: ${dayText} is older than store.retentionDays (${this.deps.retentionDays}): its events are pruned`,
      );
    }
    const partner = request.partner === '' ? undefined : request.partner;
    if (partner !== undefined && partner.length > 50) throw new FilterError('partner: at most 50 characters');
    const counts = await this.deps.store.readLedgerCounts({ startMs: day.startMs, endMs: day.endMs, partner, now });
    return buildLedger(counts, { day, timezone: this.deps.timezone, partner, now });
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
