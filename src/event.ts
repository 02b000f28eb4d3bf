/**
 * The normalized event that everything after ingest consumes. The SkyPay
 * authentication key never reaches this shape: it is checked and dropped.
 */
export const PAY_STATUSES = {
  1: 'upload',
  2: 'paid',
  3: 'cancel',
  4: 'failure',
  5: 'amendedSuccess',
  6: 'amendedFailure',
} as const;

export type PayType = keyof typeof PAY_STATUSES;
export type PayStatus = (typeof PAY_STATUSES)[PayType];

export function statusOf(payType: PayType): PayStatus {
  return PAY_STATUSES[payType];
}

export function payTypeOf(status: string): PayType | undefined {
  for (const [num, name] of Object.entries(PAY_STATUSES)) {
    if (name === status) return Number(num) as PayType;
  }
  return undefined;
}

export interface PayoutEvent {
  id: string;
  source: 'skypay';
  type: 'payout';
  action: string;
  partner: string;
  controlNumber: string;
  payType: PayType;
  status: PayStatus;
  /** As SkyPay sent it: `yyyy-MM-dd HH:mm:ss` in SkyPay's zone (GMT+8). */
  dealTime: string;
  /** The same instant as UTC ISO-8601. */
  dealTimeUtc: string;
  failDescription: string | null;
  referenceNumber: string | null;
  /** Fields SkyPay sent that its documentation does not list, kept as sent. */
  extra: Record<string, unknown>;
  receivedAt: string;
  duplicates: number;
  /**
   * How this callback moved its payout, judged in the transaction that stored it (src/payouts/lifecycle.ts).
   * Absent on events stored before payouts were kept.
   */
  transition?: Transition;
  /**
   * Set on an event skyrelay made itself because SkyPay's status query reported a status no callback brought
   * (src/payouts/reconciler.ts). Absent on callbacks. Not part of the content a copy is compared on, so the real
   * callback arriving late is a duplicate of it.
   */
  origin?: 'reconciliation';
  /**
   * The payout's confirmation right after this status, judged with `transition`: `pending` on a final status a
   * callback brought while SkyPay's status query is configured (a `payout.confirmed` or a `payout.anomaly` of kind
   * `unconfirmed` follows). Not content either. Absent on events stored before confirmation was kept.
   */
  confirmation?: PayoutConfirmation;
}

/** SkyPay 8.1 statementType: what moved money on the account (finance-notification.md). */
export const STATEMENT_TYPES = {
  1: 'payout account top-up',
  2: 'collection settlement into the payout account',
  3: 'transfer between accounts',
  4: 'collection transactions settled',
  5: 'withdrawal from the collection account',
  6: 'withdrawal from the payout account',
} as const;

export type StatementType = keyof typeof STATEMENT_TYPES;
export type SignType = 'recharge' | 'reduce';

/**
 * A financeNotification (SkyPay 8.1): money booked on one of the partner's
 * accounts. Its identity is (partner, referenceNumber, accountNo,
 * statementType): a transfer notifies both accounts under one reference.
 */
export interface FinanceEvent {
  id: string;
  source: 'skypay';
  type: 'finance';
  action: 'financeNotification';
  partner: string;
  referenceNumber: string;
  accountNo: string;
  statementType: StatementType;
  /** recharge: credit; reduce: debit. */
  signType: SignType;
  /** As SkyPay sent it: its unit (pesos or centavos) is not documented. */
  amount: number;
  currency: string;
  /** SkyPay's `transctionDate` (so spelled on the wire), as sent: `yyyy-MM-dd HH:mm:ss` in SkyPay's zone. */
  transactionDate: string;
  /** The same instant as UTC ISO-8601. */
  transactionDateUtc: string;
  companyPrefix: string;
  companyName: string;
  /** The bank account the money came from ("" when SkyPay sends none). */
  sourceAccountNo: string;
  /** The bank account the money went to ("" when SkyPay sends none). */
  beneficiaryAccountNo: string;
  extra: Record<string, unknown>;
  receivedAt: string;
  duplicates: number;
}

/** What a SkyPay callback becomes: a payout status or a finance notification. */
export type CallbackEvent = PayoutEvent | FinanceEvent;

/** A payout's state: one per payType; paid, cancelled and failed are final, the others leave it open. */
export type PayoutState = 'uploaded' | 'paid' | 'cancelled' | 'failed' | 'amendedSuccess' | 'amendedFailure';

export const PAYOUT_STATES: readonly PayoutState[] = [
  'uploaded',
  'paid',
  'cancelled',
  'failed',
  'amendedSuccess',
  'amendedFailure',
];

/** SkyPay's final statuses: nothing is supposed to follow them. */
export const FINAL_PAYOUT_STATES: readonly PayoutState[] = ['paid', 'cancelled', 'failed'];

export function isFinalState(state: PayoutState): boolean {
  return FINAL_PAYOUT_STATES.includes(state);
}

/**
 * Whether SkyPay's status query has confirmed a payout's final status (AES-ECB callbacks have no integrity, so a
 * final status a callback brought may be forged):
 * - `pending`: a callback brought it while the status query is configured; asked once it is minAgeMs old;
 * - `confirmed`: SkyPay's status query says the same final status (or reported it itself, origin reconciliation);
 * - `contradicted`: SkyPay's status query says otherwise (a payout.anomaly of kind `unconfirmed` was raised);
 * - `off`: nothing to confirm (the payout is open) or no status query is configured.
 */
export type PayoutConfirmation = 'pending' | 'confirmed' | 'contradicted' | 'off';

export const PAYOUT_CONFIRMATIONS: readonly PayoutConfirmation[] = ['pending', 'confirmed', 'contradicted', 'off'];

/**
 * What a payout.anomaly's `kind` says: a transition that cannot happen (after-final, conflict), a status with its
 * previous status's exact dealTime (same-time: the fingerprint of a spliced AES-ECB forgery), SkyPay's status query
 * contradicting a final status (unconfirmed: one a callback brought and that waited for confirmation;
 * reconciliation: any other), and an answer of the status query dated outside skypay.maxAgeDays or
 * skypay.maxFutureMinutes (out-of-window: nothing is created from it).
 */
export type PayoutAnomalyKind =
  'after-final' | 'conflict' | 'same-time' | 'unconfirmed' | 'reconciliation' | 'out-of-window';

export const PAYOUT_ANOMALY_KINDS: readonly PayoutAnomalyKind[] = [
  'after-final',
  'conflict',
  'same-time',
  'unconfirmed',
  'reconciliation',
  'out-of-window',
];

export function isPayoutAnomalyKind(value: unknown): value is PayoutAnomalyKind {
  return typeof value === 'string' && (PAYOUT_ANOMALY_KINDS as readonly string[]).includes(value);
}

/** first: the payout was unknown; late: older dealTime than a status already seen; see lifecycle.md. */
export type TransitionKind = 'first' | 'forward' | 'amendment' | 'late' | 'after-final' | 'conflict';

export const TRANSITION_KINDS: readonly TransitionKind[] = [
  'first',
  'forward',
  'amendment',
  'late',
  'after-final',
  'conflict',
];

export interface Transition {
  /** The payout's state before this callback; null when it was unknown. */
  from: PayoutState | null;
  /** Its state after: a late or impossible status leaves it where it was. */
  to: PayoutState;
  kind: TransitionKind;
}

/** Events skyrelay raises about itself (rejected callbacks, dead deliveries, conflicting copies, payouts). */
export interface SystemEvent {
  id: string;
  source: 'skyrelay';
  type:
    | 'rejection'
    | 'delivery.dead'
    | 'callback.conflict'
    | 'database.lost'
    | 'destination.unhealthy'
    | 'destination.recovered'
    | 'payout.anomaly'
    | 'payout.stuck'
    | 'payout.unstuck'
    | 'payout.confirmed'
    | 'ledger.daily'
    | 'group';
  receivedAt: string;
  /**
   * Secret-free facts about what happened; routable like payout fields. Flat, except a payout event's `history`
   * (its timeline, for the reader). A payout's particulars that free text (a reason, an echoed error) may name are
   * fields here too, under their payout names: destinations' masking hides them in the text by these values.
   */
  data: Record<string, string | number | boolean | null | readonly PayoutHistoryEntry[]>;
}

/**
 * skyrelay's own event types the rules route. A group is not among them: it is made with its one delivery, to the
 * destination whose window closed.
 */
export const ROUTED_SYSTEM_TYPES = [
  'rejection',
  'delivery.dead',
  'callback.conflict',
  'database.lost',
  'destination.unhealthy',
  'destination.recovered',
  'payout.anomaly',
  'payout.stuck',
  'payout.unstuck',
  'payout.confirmed',
  'ledger.daily',
] as const satisfies readonly SystemEvent['type'][];

/**
 * An event's type as webhook bodies name it, and so as consumers know it: `skypay.payout.failure`,
 * `skypay.finance.recharge`, `skyrelay.payout.anomaly`. Rules accept it beside the event's own `type`.
 */
export function publicTypeOf(event: RelayEvent): string {
  if (event.source === 'skyrelay') return `skyrelay.${event.type}`;
  return event.type === 'finance' ? `skypay.finance.${event.signType}` : `skypay.payout.${event.status}`;
}

/** One status a payout received, as a payout event's `history` carries it. */
export interface PayoutHistoryEntry {
  eventId: string;
  status: PayStatus;
  dealTime: string;
  receivedAt: string;
  /** The transition's kind; null for events stored before payouts were kept. */
  kind: TransitionKind | null;
  /** Set for a conflicting copy of an earlier callback (same identity, different content): the copy's id. */
  copyOf?: string;
}

export type RelayEvent = PayoutEvent | FinanceEvent | SystemEvent;

/** One member event as a group message lists it. */
export interface GroupMemberLine {
  eventId: string;
  controlNumber: string | null;
  partner: string | null;
  status: string | null;
  dealTime: string | null;
  failDescription: string | null;
  receivedAt: string;
}

/** What a group message says about its members: the first few in full, the rest counted per status. */
export interface GroupSummary {
  destination: string;
  /** The values of the destination's `group.by` fields shared by every member. */
  by: Record<string, string | null>;
  total: number;
  /** Members per payout status, all of them. */
  counts: Record<string, number>;
  /** The first members (by arrival), at most GROUP_LISTED. */
  listed: GroupMemberLine[];
  /** Members not listed, per payout status ("and N more"). */
  moreCounts: Record<string, number>;
  /**
   * Control numbers of the members not listed, in arrival order, up to GROUP_NAMED: a reader (or a search in
   * Slack or mail) finds every payout of the group, not only the first 20.
   */
  moreNames: string[];
}

/**
 * A message carrying several events to one Slack or email destination (its `group` setting): an event of
 * skyrelay's own, created with its one delivery when the group's window closes.
 */
export type GroupEvent = SystemEvent & { type: 'group'; group: GroupSummary };

export function isGroupEvent(event: RelayEvent): event is GroupEvent {
  return event.source === 'skyrelay' && event.type === 'group' && 'group' in event;
}
