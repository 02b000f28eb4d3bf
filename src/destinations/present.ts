import type { PayStatus, PayoutEvent, RelayEvent, SystemEvent } from '../event';
import { extraText } from '../event-json';

/**
 * How events read to people, shared by Slack and email so both say the same
 * thing in the same words.
 */

export const PAYOUT_HEADLINES: Readonly<Record<PayStatus, string>> = {
  upload: 'Payout uploaded',
  paid: 'Payout paid',
  cancel: 'Payout cancelled',
  failure: 'Payout failed',
  amendedSuccess: 'Payout amended',
  amendedFailure: 'Payout amendment failed',
};

export const SYSTEM_HEADLINES: Readonly<Record<SystemEvent['type'], string>> = {
  rejection: 'skyrelay refused a callback',
  'delivery.dead': 'skyrelay delivery dead',
  'callback.conflict': 'skyrelay kept a conflicting callback copy',
  'database.lost': 'skyrelay database file lost',
};

/** Shown for missing values, so an empty cell reads as "nothing" rather than a glitch. */
export const EMPTY_VALUE = '—';

export function describeHeadline(event: RelayEvent): string {
  return event.source === 'skypay' ? PAYOUT_HEADLINES[event.status] : SYSTEM_HEADLINES[event.type];
}

/** `amendedFailure` -> `amended failure`. */
export function spellStatus(status: PayStatus): string {
  return status.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** SkyPay sends deal times as GMT+8 wall-clock text; say so, since readers are not all there. */
export function formatDealTime(dealTime: string): string {
  return `${dealTime} GMT+8`;
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return EMPTY_VALUE;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? EMPTY_VALUE;
}

// `differs`: what a callback.conflict is about (which fields a copy changed).
const REASON_KEYS = ['reason', 'error', 'lastError', 'message', 'differs'] as const;

/** The one-line "why" of a system event, for subjects and fallbacks. */
export function describeReason(event: SystemEvent): string | undefined {
  for (const key of REASON_KEYS) {
    const value = event.data[key];
    if (value !== undefined && value !== null && value !== '') return String(value);
  }
  return undefined;
}

export type Field = readonly [label: string, value: string];

/** The fields a person needs to act on a payout, in the order they look for them. */
export function listKeyPayoutFields(event: PayoutEvent): Field[] {
  return [
    ['Control number', event.controlNumber],
    ['Partner', event.partner],
    ['Deal time', formatDealTime(event.dealTime)],
    ['Reference number', formatValue(event.referenceNumber)],
    ['Failure description', formatValue(event.failDescription)],
  ];
}

/** Every field of the event, including SkyPay's undocumented extras, for the full record in mail. */
export function listAllFields(event: RelayEvent): Field[] {
  if (event.source === 'skyrelay') {
    return [
      ['Event id', event.id],
      ['Type', `skyrelay ${event.type}`],
      ['Received at', event.receivedAt],
      ...Object.entries(event.data).map(([key, value]): Field => [key, formatValue(value)]),
    ];
  }
  return [
    ...listKeyPayoutFields(event),
    ['Status', `${event.status} (pay type ${event.payType})`],
    ['Action', formatValue(event.action)],
    ['Deal time (UTC)', event.dealTimeUtc],
    ['Event id', event.id],
    ['Event type', `${event.source} ${event.type}`],
    ['Received at', event.receivedAt],
    ['Duplicate callbacks', String(event.duplicates)],
    // Numbers and structures as SkyPay wrote them: String() would round a long amount.
    ...Object.entries(event.extra).map(([key, value]): Field => [
      `Extra: ${key}`,
      typeof value === 'string' ? formatValue(value) : (extraText(event.extra, key) ?? EMPTY_VALUE),
    ]),
  ];
}

/** Collapses whitespace and caps length, for one-line places like subjects and headers. */
export function toOneLine(text: string, maxChars: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= maxChars ? line : `${line.slice(0, maxChars - 1)}…`;
}
