import { InvalidCallbackError } from './rejections';

/** skypay.maxAgeDays and skypay.maxFutureMinutes; either may be off (undefined). */
export interface DealTimeWindow {
  maxAgeDays?: number | undefined;
  maxFutureMinutes?: number | undefined;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/**
 * A replayed callback from months ago, or one dated next year, is not
 * something SkyPay sends today: reject it before it becomes an event.
 * Pure: the caller passes the instant of dealTime and its own clock.
 */
export function checkDealTimeWindow(
  dealTimeUtc: Date,
  now: Date,
  window: DealTimeWindow,
  /** The field named in the rejection: a financeNotification's time is its `transctionDate`. */
  field = 'dealTime',
): void {
  const ageMs = now.getTime() - dealTimeUtc.getTime();
  if (window.maxAgeDays !== undefined && ageMs > window.maxAgeDays * DAY_MS) {
    throw new InvalidCallbackError(field, `is more than ${plural(window.maxAgeDays, 'day')} old (skypay.maxAgeDays)`);
  }
  if (window.maxFutureMinutes !== undefined && -ageMs > window.maxFutureMinutes * MINUTE_MS) {
    throw new InvalidCallbackError(
      field,
      `is more than ${plural(window.maxFutureMinutes, 'minute')} in the future (skypay.maxFutureMinutes)`,
    );
  }
}

const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
