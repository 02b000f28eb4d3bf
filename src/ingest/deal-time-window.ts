import { describeWindowViolation, type DealTimeWindow } from '../skypay/time';
import { InvalidCallbackError } from './rejections';

export type { DealTimeWindow };

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
  const violation = describeWindowViolation(dealTimeUtc, now, window);
  if (violation !== undefined) throw new InvalidCallbackError(field, violation);
}
