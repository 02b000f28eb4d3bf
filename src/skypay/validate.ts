import {
  StructError,
  define,
  defaulted,
  optional,
  refine,
  size,
  string,
  type,
  nullable,
  create,
  type Infer,
} from 'superstruct';
import { parseDealTime } from './time';
import type { PayType } from '../event';

/**
 * SkyPay's field table (section 3.2), as superstruct. `type()` rather than
 * `object()`: SkyPay may add fields, and unknown ones are kept, not rejected.
 */
const CONTROL_NUMBER = /^[A-Za-z0-9]{13,15}$/;
const PAY_TYPE_TEXT = /^[1-6]$/;

const ControlNumber = refine(
  string(),
  'controlNumber',
  (v) => CONTROL_NUMBER.test(v) || 'must be 13 to 15 letters or digits',
);

/** The table says int, every example sends "1": accept both, hand on a number. */
const PayTypeField = define<PayType>('payType', (v) => {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 6) return true;
  if (typeof v === 'string' && PAY_TYPE_TEXT.test(v)) return true;
  return 'must be 1 to 6 (upload, paid, cancel, failure, amendedSuccess, amendedFailure), as a number or a numeric string';
});

const Action = define<'payoutQueuePayout'>(
  'action',
  (v) => v === 'payoutQueuePayout' || 'must be exactly "payoutQueuePayout"',
);

export function createCallbackStruct(offsetMinutes: number) {
  const DealTime = refine(
    string(),
    'dealTime',
    (v) => parseDealTime(v, offsetMinutes) !== undefined || 'must be a real calendar time written yyyy-MM-dd HH:mm:ss',
  );
  return type({
    userName: size(string(), 1, 50),
    action: Action,
    authentication: size(string(), 1, 50),
    controlNumber: ControlNumber,
    payType: PayTypeField,
    dealTime: DealTime,
    failDescription: defaulted(nullable(optional(string())), null),
    referenceNumber: defaulted(nullable(optional(string())), null),
  });
}

export type CallbackStruct = ReturnType<typeof createCallbackStruct>;
export type SkyPayCallback = Infer<CallbackStruct>;

/** A body checked against SkyPay's field table: the callback, or the first field that breaks a rule and the rule. */
export type FieldCheck = { ok: true; callback: SkyPayCallback } | { ok: false; field: string; rule: string };

/** Checks a decrypted, authenticated body against the table, naming the first bad field. */
export function checkCallbackFields(body: Record<string, unknown>, struct: CallbackStruct): FieldCheck {
  const valid = acceptWellFormed(body);
  if (valid) return { ok: true, callback: valid };
  try {
    return { ok: true, callback: create(body, struct) };
  } catch (err) {
    if (!(err instanceof StructError)) throw err;
    const failure = err.failures()[0] ?? err;
    return { ok: false, field: failure.path.join('.') || 'body', rule: describeFailure(failure) };
  }
}

const isOptionalText = (v: unknown): v is string | null | undefined =>
  v === undefined || v === null || typeof v === 'string';
const isName = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 50;

/**
 * The same rules as the struct, checked by hand for the common case of a
 * body that passes: superstruct's create() costs several times more. Any
 * doubt returns undefined, and the struct then decides and names the field,
 * so rejections read exactly as before. dealTime's validity does not depend
 * on the offset, which only shifts the instant.
 */
function acceptWellFormed(b: Record<string, unknown>): SkyPayCallback | undefined {
  const { userName, action, authentication, controlNumber, payType, dealTime, failDescription, referenceNumber } = b;
  if (!isName(userName) || action !== 'payoutQueuePayout' || !isName(authentication)) return undefined;
  if (typeof controlNumber !== 'string' || !CONTROL_NUMBER.test(controlNumber)) return undefined;
  const payTypeOk =
    typeof payType === 'number'
      ? Number.isInteger(payType) && payType >= 1 && payType <= 6
      : typeof payType === 'string' && PAY_TYPE_TEXT.test(payType);
  if (!payTypeOk || typeof dealTime !== 'string' || parseDealTime(dealTime, 0) === undefined) return undefined;
  if (!isOptionalText(failDescription) || !isOptionalText(referenceNumber)) return undefined;
  return { ...b, failDescription: failDescription ?? null, referenceNumber: referenceNumber ?? null } as SkyPayCallback;
}

function describeFailure(failure: {
  type: string;
  refinement: string | undefined;
  message: string;
  value: unknown;
}): string {
  if (failure.value === undefined) return 'is required';
  if (failure.refinement === 'size') return 'must be a string of 1 to 50 characters';
  // Our refinements and defines return the rule itself as the message.
  if (failure.refinement !== undefined || failure.type === 'payType' || failure.type === 'action')
    return failure.message;
  if (failure.type === 'string') return 'must be a string';
  return failure.message.replace(/^Expected .*?, but received: .*$/s, `has the wrong type (${typeof failure.value})`);
}
