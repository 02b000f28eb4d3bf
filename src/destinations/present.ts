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
  group: 'Grouped payout events',
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

/** SkyPay's own clock, when skypay.timezone is not passed on. */
export const SKYPAY_TIMEZONE = '+08:00';

/**
 * SkyPay sends deal times as wall-clock text in skypay.timezone; say which,
 * since readers are not all there: "+08:00" reads "GMT+8", "+05:30" "GMT+5:30".
 */
export function formatDealTime(dealTime: string, timezone: string = SKYPAY_TIMEZONE): string {
  return `${dealTime} ${describeTimezone(timezone)}`;
}

export function describeTimezone(timezone: string): string {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(timezone);
  if (!m) return timezone;
  const sign = m[1] ?? '+';
  const hours = Number(m[2]);
  const minutes = m[3] ?? '00';
  if (hours === 0 && minutes === '00') return 'GMT';
  return `GMT${sign}${hours}${minutes === '00' ? '' : `:${minutes}`}`;
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
export function listKeyPayoutFields(event: PayoutEvent, timezone: string = SKYPAY_TIMEZONE): Field[] {
  return [
    ['Control number', event.controlNumber],
    ['Partner', event.partner],
    ['Deal time', formatDealTime(event.dealTime, timezone)],
    ['Reference number', formatValue(event.referenceNumber)],
    ['Failure description', formatValue(event.failDescription)],
  ];
}

/** Every field of the event, including SkyPay's undocumented extras, for the full record in mail. */
export function listAllFields(event: RelayEvent, timezone: string = SKYPAY_TIMEZONE): Field[] {
  if (event.source === 'skyrelay') {
    return [
      ['Event id', event.id],
      ['Type', `skyrelay ${event.type}`],
      ['Received at', event.receivedAt],
      ...Object.entries(event.data).map(([key, value]): Field => [key, formatValue(value)]),
    ];
  }
  return [
    ...listKeyPayoutFields(event, timezone),
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
