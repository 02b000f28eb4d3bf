import { readDuration } from '../duration';
import {
  PAYOUT_CONFIRMATIONS,
  PAYOUT_STATES,
  PAY_STATUSES,
  ROUTED_SYSTEM_TYPES,
  payTypeOf,
  type PayoutConfirmation,
  type PayoutState,
} from '../event';
import { DELIVERY_STATES, type DeliveryState } from '../delivery/types';

/**
 * Parsing of the filters the CLI flags and the admin query strings share,
 * so `--since 24h` and `?since=24h` mean the same thing and fail the same way.
 */
export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

/**
 * The longest duration a filter takes: nothing skyrelay keeps is older, and anything longer (`9999999999999h`)
 * is past what the stores' 64-bit times hold, which PostgreSQL refuses as an error of its own.
 */
export const MAX_DURATION_DAYS = 36_500;
const MAX_DURATION_MS = MAX_DURATION_DAYS * 86_400_000;
/** The instants a filter takes: what both stores and Date.parse agree on. */
const EARLIEST_MS = Date.UTC(1970, 0, 1);
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** `90d`, `24h`, `15m`, `30s`, `2w` in milliseconds. */
export function parseDuration(text: string, name: string): number {
  const ms = readDuration(text);
  if (ms === undefined) {
    throw new FilterError(`${name}: expected a duration such as 30s, 15m, 24h, 90d or 2w (got "${text}")`);
  }
  if (!(ms <= MAX_DURATION_MS)) {
    throw new FilterError(`${name}: at most ${MAX_DURATION_DAYS}d (100 years) (got "${text}")`);
  }
  return ms;
}

/** A duration back from now (`24h`) or an ISO-8601 instant, as ms epoch, from 1970 to the end of 9999. */
export function parseSince(text: string, now = Date.now()): number {
  const at = /^\d+\s*[smhdw]$/.test(text.trim()) ? now - parseDuration(text, 'since') : Date.parse(text);
  if (Number.isNaN(at))
    throw new FilterError(`since: expected a duration such as 24h or an ISO-8601 time (got "${text}")`);
  if (at < EARLIEST_MS || at > LATEST_MS) {
    throw new FilterError(`since: expected a time from 1970 to 9999 (got "${text}")`);
  }
  return at;
}

/** A payout status by name (failure) or payType number (4). */
export function parseStatus(text: string): string {
  const byNumber = /^[1-6]$/.test(text) ? PAY_STATUSES[Number(text) as keyof typeof PAY_STATUSES] : undefined;
  if (byNumber) return byNumber;
  if (payTypeOf(text) !== undefined) return text;
  throw new FilterError(`status: expected one of ${Object.values(PAY_STATUSES).join(', ')} or 1 to 6 (got "${text}")`);
}

/** The types an event listing filters by: payouts, refused callbacks, and skyrelay's own events the rules route. */
const EVENT_TYPES: readonly string[] = ['payout', ...ROUTED_SYSTEM_TYPES];

export function parseEventType(text: string): string {
  if (EVENT_TYPES.includes(text)) return text;
  throw new FilterError(`type: expected one of ${EVENT_TYPES.join(', ')} (got "${text}")`);
}

/**
 * A rejection reason as stored (unauthenticated, invalid, ...). Not checked
 * against a list: rows keep the reasons of older and newer versions, and an
 * unknown one simply matches nothing.
 */
export function parseReason(text: string): string {
  if (/^[a-z][a-z_]{0,39}$/.test(text)) return text;
  throw new FilterError(`reason: expected a rejection reason such as unauthenticated or invalid (got "${text}")`);
}

/**
 * `type=rejection` lists refused callbacks, which have no control number or
 * payout status: those filters would silently match everything, so say so.
 */
export function checkRejectionFilters(filters: Record<string, string | undefined>): void {
  const given = Object.entries(filters)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k);
  if (given.length) throw new FilterError(`${given.join(', ')}: does not apply to type rejection (refused callbacks)`);
}

export function parseState(text: string): DeliveryState {
  if ((DELIVERY_STATES as readonly string[]).includes(text)) return text as DeliveryState;
  throw new FilterError(`state: expected one of ${DELIVERY_STATES.join(', ')} (got "${text}")`);
}

export function parseLimit(text: string, max = 1000): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > max)
    throw new FilterError(`limit: expected a whole number from 1 to ${max} (got "${text}")`);
  return n;
}

export function parsePayoutState(text: string): PayoutState {
  if ((PAYOUT_STATES as readonly string[]).includes(text)) return text as PayoutState;
  throw new FilterError(`state: expected one of ${PAYOUT_STATES.join(', ')} (got "${text}")`);
}

/** A payout's confirmation by SkyPay's status query: pending, confirmed, contradicted or off. */
export function parseConfirmation(text: string): PayoutConfirmation {
  if ((PAYOUT_CONFIRMATIONS as readonly string[]).includes(text)) return text as PayoutConfirmation;
  throw new FilterError(`confirmation: expected one of ${PAYOUT_CONFIRMATIONS.join(', ')} (got "${text}")`);
}

/** `--older-than 6h`: payouts in their state since before that long ago, as ms epoch. */
export function parseOlderThan(text: string, now = Date.now()): number {
  return now - parseDuration(text, 'older-than');
}

/** A control number or partner as a filter: SkyPay's are short printable text; anything else matches nothing. */
export function parseName(text: string, name: string): string {
  if (text.length >= 1 && text.length <= 100 && !hasControlCharacters(text)) return text;
  throw new FilterError(`${name}: expected 1 to 100 printable characters`);
}

/** C0 controls (NUL among them, which PostgreSQL's text cannot hold) and DEL: no name or id skyrelay keeps has one. */
export function hasControlCharacters(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point of this check
  return /[\u0000-\u001f\u007f]/.test(text);
}

/** A page cursor: the id of the last row of the page before, as skyrelay makes them (`evt_…`, `dlv_…`). */
export function parseCursor(text: string): string {
  if (/^[A-Za-z0-9_-]{1,100}$/.test(text)) return text;
  throw new FilterError('cursor: expected the id of a row, as in the `next` link of the page before');
}
