import { checkFinanceFields, type FinanceFields } from '../skypay/finance';
import { checkCallbackFields, type CallbackStruct, type SkyPayCallback } from '../skypay/validate';
import { InvalidCallbackError } from './rejections';

/** Validates a decrypted, authenticated body; throws InvalidCallbackError naming the first bad field. */
export function validateCallback(body: Record<string, unknown>, struct: CallbackStruct): SkyPayCallback {
  const checked = checkCallbackFields(body, struct);
  if (checked.ok) return checked.callback;
  throw new InvalidCallbackError(checked.field, checked.rule);
}

/** Validates a decrypted, authenticated financeNotification; throws InvalidCallbackError naming the first bad field. */
export function validateFinance(body: Record<string, unknown>): FinanceFields {
  const checked = checkFinanceFields(body);
  if (checked.ok) return checked.fields;
  throw new InvalidCallbackError(checked.field, checked.rule);
}
