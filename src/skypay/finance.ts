import type { FinanceEvent, SignType, StatementType } from '../event';
import { keepExtraTexts } from '../event-json';
import { createId } from '../ids';
import { scanMembers } from '../raw-json';
import { parseDealTime } from './time';

/** The action a financeNotification carries (the docs' table says payoutInquiry; the sample and the site say this). */
export const FINANCE_ACTION = 'financeNotification';

/** A body checked against SkyPay's 8.1 field table: the fields, or the first one that breaks a rule and the rule. */
export type FinanceCheck = { ok: true; fields: FinanceFields } | { ok: false; field: string; rule: string };

/** The documented fields, read and normalized; the key stays behind. */
export interface FinanceFields {
  userName: string;
  referenceNumber: string;
  accountNo: string;
  statementType: StatementType;
  signType: SignType;
  amount: number;
  currency: string;
  transactionDate: string;
  companyPrefix: string;
  companyName: string;
  sourceAccountNo: string;
  beneficiaryAccountNo: string;
}

/** One field's rule: its message when `value` breaks it, undefined when it holds. `value` is never undefined here. */
type Rule = (value: unknown) => string | undefined;

interface FieldRule {
  name: string;
  /** Absent (or null) is allowed and reads as "": SkyPay sends "" for accounts that do not apply. */
  optional?: boolean;
  rule: Rule;
}

const text =
  (min: number, max: number): Rule =>
  (v) =>
    typeof v === 'string' && v.length >= min && v.length <= max
      ? undefined
      : min === 0
        ? `must be a string of at most ${max} characters`
        : `must be a string of ${min} to ${max} characters`;

const STATEMENT_TEXT = /^[1-6]$/;
const AMOUNT_TEXT = /^\d{1,15}$/;
const CURRENCY = /^[A-Za-z]{3}$/;

/**
 * SkyPay's 8.1 table, in its order (so the first bad field named is the one
 * the table lists first). Lengths follow the table where the sample agrees;
 * where the sample breaks it (accountNo: documented 5, sent 12 digits;
 * referenceNumber: automatic settlements start with the caller's name) the
 * bound is 50, like userName's. The table says amount is int and
 * statementType string; as with payType, both spellings are accepted.
 */
const FIELDS: readonly FieldRule[] = [
  { name: 'userName', rule: text(1, 50) },
  {
    name: 'action',
    rule: (v) => (v === FINANCE_ACTION ? undefined : `must be exactly "${FINANCE_ACTION}"`),
  },
  { name: 'authentication', rule: text(1, 50) },
  {
    name: 'transctionDate',
    rule: (v) =>
      typeof v === 'string' && parseDealTime(v, 0) !== undefined
        ? undefined
        : 'must be a real calendar time written yyyy-MM-dd HH:mm:ss',
  },
  { name: 'companyPrefix', optional: true, rule: text(0, 5) },
  { name: 'companyName', optional: true, rule: text(0, 200) },
  { name: 'accountNo', rule: text(1, 50) },
  { name: 'sourceAccountNo', optional: true, rule: text(0, 50) },
  { name: 'beneficiaryAccountNo', optional: true, rule: text(0, 50) },
  {
    name: 'statementType',
    rule: (v) =>
      (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 6) ||
      (typeof v === 'string' && STATEMENT_TEXT.test(v))
        ? undefined
        : 'must be 1 to 6 (top-up, settlement, transfer, collection settled, collection withdrawal, payout withdrawal), as a number or a numeric string',
  },
  {
    name: 'signType',
    rule: (v) => (v === 'recharge' || v === 'reduce' ? undefined : 'must be "recharge" or "reduce"'),
  },
  {
    name: 'amount',
    rule: (v) =>
      (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'string' && AMOUNT_TEXT.test(v))
        ? undefined
        : 'must be a whole number of at least 0 (an integer, or its digits as a string)',
  },
  {
    name: 'currency',
    rule: (v) => (typeof v === 'string' && CURRENCY.test(v) ? undefined : 'must be a 3-letter currency code'),
  },
  { name: 'referenceNumber', rule: text(1, 50) },
];

/** Fields SkyPay documents for 8.1; anything else is an extra field, kept as sent. */
const DOCUMENTED: ReadonlySet<string> = new Set(FIELDS.map((f) => f.name));

/** Checks a decrypted, authenticated body against the 8.1 table, naming the first bad field. Pure. */
export function checkFinanceFields(body: Record<string, unknown>): FinanceCheck {
  for (const { name, optional, rule } of FIELDS) {
    const value = Object.hasOwn(body, name) ? body[name] : undefined;
    if (value === undefined || value === null) {
      if (optional) continue;
      return { ok: false, field: name, rule: 'is required' };
    }
    const broken = rule(value);
    if (broken !== undefined) return { ok: false, field: name, rule: broken };
  }
  const str = (name: string): string => {
    const v = body[name];
    return typeof v === 'string' ? v : '';
  };
  return {
    ok: true,
    fields: {
      userName: str('userName'),
      referenceNumber: str('referenceNumber'),
      accountNo: str('accountNo'),
      statementType: Number(body['statementType']) as StatementType,
      signType: body['signType'] as SignType,
      amount: Number(body['amount']),
      currency: str('currency'),
      transactionDate: str('transctionDate'),
      companyPrefix: str('companyPrefix'),
      companyName: str('companyName'),
      sourceAccountNo: str('sourceAccountNo'),
      beneficiaryAccountNo: str('beneficiaryAccountNo'),
    },
  };
}

/** Turns checked fields into the event the rest of skyrelay consumes. */
export function normalizeFinance(
  fields: FinanceFields,
  raw: Record<string, unknown>,
  offsetMinutes: number,
  receivedAt: Date,
  /** The JSON text `raw` was parsed from, when known: extra fields keep its exact text. */
  sourceText?: string,
): FinanceEvent {
  const extra: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (!DOCUMENTED.has(key)) extra[key] = raw[key];
  }
  if (sourceText !== undefined && Object.keys(extra).length > 0) {
    const texts = scanMembers(sourceText);
    if (texts) keepExtraTexts(extra, texts);
  }
  const dateUtc = parseDealTime(fields.transactionDate, offsetMinutes);
  const { userName, ...rest } = fields;
  return {
    id: createId('evt'),
    source: 'skypay',
    type: 'finance',
    action: FINANCE_ACTION,
    partner: userName,
    ...rest,
    // checkFinanceFields already proved the date parses; the fallback is unreachable.
    transactionDateUtc: (dateUtc ?? receivedAt).toISOString(),
    extra,
    receivedAt: receivedAt.toISOString(),
    duplicates: 0,
  };
}
