/**
 * SkyPay speaks local Philippine time (GMT+8) with no offset in the string.
 * These helpers convert between that and real instants for a configured
 * offset such as "+08:00".
 */
const OFFSET = /^([+-])(\d{2}):(\d{2})$/;
const DEAL_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

export function parseOffsetMinutes(offset: string): number {
  const m = OFFSET.exec(offset);
  if (!m) throw new RangeError(`timezone offset must look like +08:00, got ${offset}`);
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -minutes : minutes;
}

/** Returns the UTC instant of a `yyyy-MM-dd HH:mm:ss` local time, or undefined if it is not a real calendar time. */
export function parseDealTime(text: string, offsetMinutes: number): Date | undefined {
  const m = DEAL_TIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const local = new Date(0);
  local.setUTCFullYear(y, mo - 1, d);
  local.setUTCHours(h, mi, s, 0);
  // The date rolls 2024-02-30 over to March; a real calendar time survives the round trip.
  if (
    local.getUTCFullYear() !== y ||
    local.getUTCMonth() !== mo - 1 ||
    local.getUTCDate() !== d ||
    local.getUTCHours() !== h ||
    local.getUTCMinutes() !== mi ||
    local.getUTCSeconds() !== s
  ) {
    return undefined;
  }
  return new Date(local.getTime() - offsetMinutes * 60_000);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `yyyy-MM-dd HH:mm:ss.SSSS` in the given offset, as SkyPay's responseTime. */
export function formatResponseTime(at: Date, offsetMinutes: number): string {
  const t = new Date(at.getTime() + offsetMinutes * 60_000);
  const date = `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
  const time = `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
  // SkyPay shows four fractional digits; JavaScript clocks have three.
  return `${date} ${time}.${pad(t.getUTCMilliseconds(), 3)}0`;
}

/** skypay.maxAgeDays and skypay.maxFutureMinutes; either may be off (undefined). */
export interface DealTimeWindow {
  maxAgeDays?: number | undefined;
  maxFutureMinutes?: number | undefined;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/**
 * Why an instant SkyPay gave (a callback's dealTime, a status query's payTime) is not one SkyPay reports today:
 * more than maxAgeDays old or more than maxFutureMinutes ahead of `now`; undefined when it is within both. Pure.
 */
export function describeWindowViolation(at: Date, now: Date, window: DealTimeWindow): string | undefined {
  const ageMs = now.getTime() - at.getTime();
  if (window.maxAgeDays !== undefined && ageMs > window.maxAgeDays * DAY_MS) {
    return `is more than ${plural(window.maxAgeDays, 'day')} old (skypay.maxAgeDays)`;
  }
  if (window.maxFutureMinutes !== undefined && -ageMs > window.maxFutureMinutes * MINUTE_MS) {
    return `is more than ${plural(window.maxFutureMinutes, 'minute')} in the future (skypay.maxFutureMinutes)`;
  }
  return undefined;
}

const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
