import type {
  PayoutConfirmation,
  PayoutEvent,
  PayoutHistoryEntry,
  PayoutState,
  RelayEvent,
  SystemEvent,
  Transition,
} from '../event';
import type { NewDelivery } from '../delivery/types';

/** Payouts as the lifecycle judges them and the store keeps them; the policy the store runs in a payout's transaction. */
/** A payout as the store keeps it: one row per (partner, controlNumber), updated in its events' transactions. */
export interface PayoutRecord {
  /** Time-sortable (pay_...), given at first sight: what listings page by. */
  id: string;
  partner: string;
  controlNumber: string;
  state: PayoutState;
  firstSeenMs: number;
  lastSeenMs: number;
  /** The newest dealTime among its statuses, as SkyPay sent it. */
  lastDealTime: string;
  /** When it entered its state (received time): what "stuck" measures. */
  stateSinceMs: number;
  /** The state a payout.stuck was raised for (at most once per state); null when never. */
  stuckState: PayoutState | null;
  /** How many payout.anomaly events were raised about it (after-final, conflict, same-time, unconfirmed). */
  anomalies: number;
  /** Whether SkyPay's status query confirmed its final status (see PayoutConfirmation). */
  confirmation: PayoutConfirmation;
}

/**
 * What the store asks of the payout lifecycle while it stores a payout event (src/payouts/policy.ts): handed in,
 * since the state machine and the rules live above the store. Every call is synchronous and pure, made inside the
 * event's transaction.
 */
export interface PayoutPolicy {
  /**
   * Whether judging `event` needs the payout's history (its statuses so far, read only then: most callbacks need
   * none). Asked before judge(); never for a payout not seen before.
   */
  needsHistory(before: PayoutRecord | undefined, event: PayoutEvent): boolean;
  /**
   * The event's transition and the payout after it (its state, anomaly count and confirmation); `before` is
   * undefined for a payout never seen; `history` is the payout's statuses so far when needsHistory() said so, else
   * empty. The store then sets `event.transition` and `event.confirmation` (after.confirmation).
   */
  judge(
    before: PayoutRecord | undefined,
    event: PayoutEvent,
    history: readonly PayoutHistoryEntry[],
  ): { transition: Transition; after: PayoutRecord };
  /**
   * Events the transition raises (payout.anomaly, payout.unstuck), stored in the same transaction. `history` is the
   * one judge() got with this event's own entry last.
   */
  raise(context: {
    event: PayoutEvent;
    transition: Transition;
    before: PayoutRecord | undefined;
    after: PayoutRecord;
    history: PayoutHistoryEntry[];
  }): SystemEvent[];
  /** The deliveries of the stored event and of each raised one, planned after judging so rules see the transition. */
  plan(event: RelayEvent): NewDelivery[];
}

export interface PayoutFilter {
  state?: PayoutState | undefined;
  partner?: string | undefined;
  /** Only payouts in their state since before this instant (e.g. `--older-than 6h`). */
  stateSinceBeforeMs?: number | undefined;
  /** Only payouts with at least one payout.anomaly. */
  anomalies?: boolean | undefined;
  /** Only payouts whose confirmation is this (e.g. `pending`: final statuses SkyPay has not confirmed yet). */
  confirmation?: PayoutConfirmation | undefined;
  /** Only payouts not in a final state (uploaded, amendedSuccess, amendedFailure). */
  open?: boolean | undefined;
  /** Only payouts past one of these cutoffs (the stuck ones, as StuckCheck); none when it is empty. */
  stuck?: readonly StuckCutoff[] | undefined;
  /** Only ids older than this one (the previous page's last id). */
  before?: string | undefined;
  limit: number;
}

/** What countPayouts counts: a listing's filters, without its page. */
export type PayoutCountFilter = Omit<PayoutFilter, 'before' | 'limit'>;

/**
 * What reconciliation did with SkyPay's answer for one payout: `created` the event skyrelay missed, `duplicate` (that
 * event was already stored), `agrees` (SkyPay says what skyrelay holds), `confirmed` (it says the final status a
 * callback brought: the payout's confirmation is now confirmed), `contradiction` (a payout.anomaly was raised),
 * `out-of-window` (a time in the answer is outside skypay.maxAgeDays / maxFutureMinutes: an anomaly, nothing made),
 * `open` (still open on both sides), `record` (a status that says nothing of the lifecycle: 0, 10, 11),
 * `unkeyed` (a final status without any time to key its event by), `missing` (left out of SkyPay's answer),
 * `unreadable` (its item in the answer could not be read).
 */
export type ReconciliationOutcome =
  | 'created'
  | 'duplicate'
  | 'agrees'
  | 'confirmed'
  | 'contradiction'
  | 'out-of-window'
  | 'open'
  | 'record'
  | 'unkeyed'
  | 'missing'
  | 'unreadable';

export const RECONCILIATION_OUTCOMES: readonly ReconciliationOutcome[] = [
  'created',
  'duplicate',
  'agrees',
  'confirmed',
  'contradiction',
  'out-of-window',
  'open',
  'record',
  'unkeyed',
  'missing',
  'unreadable',
];

/** One payout's reconciliation result, as the reconciler records it. */
export interface NewReconciliation {
  partner: string;
  controlNumber: string;
  checkedMs: number;
  /** SkyPay's status code; null when the payout was missing from the answer or unreadable. */
  status: number | null;
  statusDesc: string;
  outcome: ReconciliationOutcome;
  /** What it means and what was done, in words (no secret: only what SkyPay said of the payout). */
  detail: string;
  /** The event created, or the anomaly raised. */
  eventId: string | null;
}

/** Which open payouts a reconciliation round asks about (Store.listOpenPayouts). */
export interface OpenPayoutQuery {
  firstSeenBeforeMs: number;
  limit: number;
  /** Only this partner's (the status query asks with one partner's credentials). */
  partner?: string | undefined;
  /** Only payouts not reconciled since this instant: what makes one round per interval across the cluster. */
  notCheckedSinceMs?: number | undefined;
}

/** Which final statuses a reconciliation round asks SkyPay to confirm (Store.listPendingConfirmations). */
export interface PendingConfirmationQuery {
  /** Only payouts final since before this instant: SkyPay answers about a status only 300 s after it (minAgeMs). */
  stateSinceBeforeMs: number;
  limit: number;
  partner?: string | undefined;
  /** Only payouts not reconciled since this instant, as OpenPayoutQuery: one question per interval per payout. */
  notCheckedSinceMs?: number | undefined;
}

/**
 * SkyPay's answer settling a pending confirmation (Store.settleConfirmation): the payout's confirmation moves from
 * `pending` to `confirmation` and `event` (payout.confirmed, or payout.anomaly of kind unconfirmed) is stored with its
 * deliveries, in one transaction, only if the payout still holds `state` and is still pending: two processes asking
 * at once settle it once.
 */
export interface ConfirmationSettlement {
  partner: string;
  controlNumber: string;
  /** The final state SkyPay was asked about. */
  state: PayoutState;
  confirmation: 'confirmed' | 'contradicted';
  event: SystemEvent;
  deliveries: NewDelivery[];
}

/** Payout events the stuck check raises, one per payout, in the transaction that marks them. */
/**
 * Payouts in `state` since before `stateSinceBeforeMs` are stuck: only `partner`'s when it is set, else every
 * partner's but those in `exceptPartners` (which have cutoffs of their own). Computed outside the store
 * (src/payouts/stuck-after.ts): the waits per state and partner are configuration.
 */
export interface StuckCutoff {
  state: PayoutState;
  stateSinceBeforeMs: number;
  partner?: string | undefined;
  exceptPartners?: readonly string[] | undefined;
}

export interface StuckCheck {
  /** Open payouts past any of these cutoffs, not yet reported stuck in their state; none when it is empty. */
  cutoffs: readonly StuckCutoff[];
  limit: number;
  build(payout: PayoutRecord): SystemEvent;
  plan(event: RelayEvent): NewDelivery[];
}

/** How one status query ended, as `skyrelay_status_queries_total{outcome}` counts it. */
export type StatusQueryOutcome = 'ok' | 'rejected' | 'timeout' | 'transport' | 'unreadable' | 'request';

/** A payout as operators see it. */
export interface PayoutView {
  id: string;
  partner: string;
  controlNumber: string;
  state: PayoutState;
  final: boolean;
  firstSeenAt: string;
  lastSeenAt: string;
  lastDealTime: string;
  stateSince: string;
  stuckState: PayoutState | null;
  anomalies: number;
  confirmation: PayoutConfirmation;
}

/**
 * A reconciliation result on a payout's timeline. The same answer asked again (same status, outcome and detail) is
 * counted on the row it repeats, so a payout open for days keeps a few rows, not one per interval.
 */
export interface ReconciliationView {
  firstCheckedAt: string;
  lastCheckedAt: string;
  checks: number;
  status: number | null;
  statusDesc: string;
  outcome: ReconciliationOutcome;
  detail: string;
  eventId: string | null;
}
