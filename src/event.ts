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
}

/** Events skyrelay raises about itself (rejected callbacks, dead deliveries, conflicting copies). */
export interface SystemEvent {
  id: string;
  source: 'skyrelay';
  type: 'rejection' | 'delivery.dead' | 'callback.conflict' | 'database.lost' | 'group';
  receivedAt: string;
  /** Flat, secret-free facts about what happened; routable like payout fields. */
  data: Record<string, string | number | boolean | null>;
}

export type RelayEvent = PayoutEvent | SystemEvent;

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
