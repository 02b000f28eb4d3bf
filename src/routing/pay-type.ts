import { PAY_STATUSES, payTypeOf, type PayType } from '../event';

/** The field names whose matchers speak about the pay type rather than a raw value. */
export const STATUS_FIELDS: ReadonlySet<string> = new Set(['payType', 'status']);

export const STATUS_NAMES: readonly string[] = Object.values(PAY_STATUSES);

/**
 * Operators may write a status as SkyPay's number (4), as the number in a
 * string ("4", since JSON/YAML configs and env overrides often stringify), or
 * by name ("failure"); all three must mean the same pay type.
 */
export function resolvePayType(value: unknown): PayType | undefined {
  if (typeof value === 'number') return isPayType(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  if (/^\d+$/.test(value)) {
    const num = Number(value);
    return isPayType(num) ? num : undefined;
  }
  return payTypeOf(value);
}

function isPayType(num: number): num is PayType {
  return Object.prototype.hasOwnProperty.call(PAY_STATUSES, num);
}

export function describeStatusProblem(field: string, value: unknown): string {
  return (
    `${field}: unknown status ${JSON.stringify(value)} ` +
    `(expected one of ${STATUS_NAMES.join(', ')} or a number 1-${STATUS_NAMES.length})`
  );
}
