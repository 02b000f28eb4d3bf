import type { PayoutAnomalyKind } from '../event';

/**
 * The ledger's vocabulary: one day's stored rows added up, so that every callback, event, route and payout is
 * accounted for. The store counts (LedgerCounts); src/ledger/balance.ts judges whether they balance (Ledger).
 */

/** Where an event came from: a callback SkyPay sent, a status reconciliation found missing, or skyrelay itself. */
export type EventOrigin = 'callback' | 'reconciliation' | 'skyrelay';

export const EVENT_ORIGINS: readonly EventOrigin[] = ['callback', 'reconciliation', 'skyrelay'];

/** How an acknowledged callback counts in the tally: a new event, a duplicate, or a conflicting copy. */
export type TallyOutcome = 'event' | 'duplicate' | 'copy';

/** One acknowledged callback, as the tally counts it. */
export interface TallyEntry {
  partner: string;
  receivedMs: number;
  outcome: TallyOutcome;
}

/** What the ledger asks the store: events received in [startMs, endMs), of one partner or all. */
export interface LedgerWindow {
  startMs: number;
  endMs: number;
  partner?: string | undefined;
  /** The clock open payouts' ages are measured by. */
  now: number;
}

/** The ends one (event, destination) route can reach; a row fitting none is unexplained. */
export const ROUTE_ENDS = ['delivered', 'deliveredInGroup', 'silenced', 'dead', 'pending', 'inflight'] as const;
export type RouteEnd = (typeof ROUTE_ENDS)[number];

/** One destination's routes of the day's events. */
export interface RouteCounts extends Record<RouteEnd, number> {
  /** Every route row: deliveries, group memberships and silenced routes. */
  routed: number;
  /** Routes a replay sent again (counted in their end as well). */
  replayed: number;
  /** When the oldest pending route was made (ms epoch); null when none is pending. */
  oldestPendingMs: number | null;
}

export interface CallbackCounts {
  /** Callbacks answered 1000 (the tally written with each): new events, duplicates and conflicting copies. */
  accepted: number;
  /** Of those, the ones that made a new event. */
  newEvents: number;
  duplicates: number;
  conflictingCopies: number;
  /** Refusals by reason: rows kept plus those only counted. */
  rejected: Record<string, number>;
  /** Refusals counted but not kept as rows (store.maxRejectionsPerMinute). */
  suppressed: number;
}

export interface PayoutCounts {
  /** Payouts first seen in the window. */
  opened: number;
  finalised: { paid: number; cancelled: number; failed: number };
  /** Of those still open now, by how long since they were first seen. */
  stillOpen: { under1h: number; under24h: number; older: number };
  /** Reported stuck (payout.stuck) in the state they are in. */
  stuck: number;
  /** payout.anomaly events raised in the window, by kind. */
  anomalies: Partial<Record<PayoutAnomalyKind, number>>;
  /** SkyPay's status query confirmed the final status, or contradicted it. */
  confirmed: number;
  contradicted: number;
}

export type UnexplainedKind = 'callback' | 'event' | 'delivery' | 'groupMember' | 'balance';

/** A row (or a sum) that fits no bucket: named, with why. */
export interface Unexplained {
  kind: UnexplainedKind;
  id: string;
  why: string;
  /** The event a delivery row belongs to (kind `delivery`), where its page shows it. */
  eventId?: string;
  /** The destination of a route row (kinds `delivery` and `groupMember`): the sum it is missing from. */
  destination?: string;
}

/** What the store counts for a window. */
export interface LedgerCounts {
  callbacks: CallbackCounts;
  events: Record<EventOrigin, number>;
  routes: Record<string, RouteCounts>;
  payouts: PayoutCounts;
  /** Rows that fit no bucket, at most LEDGER_UNEXPLAINED_LIMIT. */
  unexplained: Unexplained[];
}

/** The most unexplained rows one ledger lists: a damaged table says so without listing every row. */
export const LEDGER_UNEXPLAINED_LIMIT = 200;

/** A day's ledger as the fronts show it (`skyrelay ledger --json`, GET /admin/ledger). */
export interface Ledger {
  /** YYYY-MM-DD in `timezone`. */
  day: string;
  timezone: string;
  partner: string | null;
  /** The day's first and last instants (ISO), [from, to). */
  from: string;
  to: string;
  callbacks: {
    accepted: number;
    duplicates: number;
    conflictingCopies: number;
    rejected: Record<string, number>;
    suppressed: number;
  };
  events: Record<EventOrigin, number>;
  routes: Record<string, LedgerRoutes>;
  payouts: PayoutCounts;
  unexplained: Unexplained[];
  balanced: boolean;
}

export interface LedgerRoutes extends Record<RouteEnd, number> {
  routed: number;
  replayed: number;
  /** How long the oldest pending route has waited, in seconds; null when none is pending. */
  oldestPendingSeconds: number | null;
}

/** A day's ledger as recorded by the daily summary: what /metrics shows of the last one. */
export interface LedgerDayRecord {
  day: string;
  timezone: string;
  computedMs: number;
  balanced: boolean;
  unexplained: number;
  eventId: string | null;
}
