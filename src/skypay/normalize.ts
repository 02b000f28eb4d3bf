import { statusOf, type PayType, type PayoutEvent } from '../event';
import { keepExtraTexts } from '../event-json';
import { createId } from '../ids';
import { scanMembers } from '../raw-json';
import { parseDealTime } from './time';
import type { SkyPayCallback } from './validate';

/** Fields SkyPay documents; anything else is an extra field, kept as sent. */
const DOCUMENTED = new Set([
  'userName',
  'action',
  'authentication',
  'controlNumber',
  'payType',
  'dealTime',
  'failDescription',
  'referenceNumber',
]);

/** Turns a validated callback into the event the rest of skyrelay consumes. The key stays behind. */
export function normalizeCallback(
  callback: SkyPayCallback,
  raw: Record<string, unknown>,
  offsetMinutes: number,
  receivedAt: Date,
  /** The JSON text `raw` was parsed from, when known: extra fields keep its exact text (long numbers included). */
  sourceText?: string,
): PayoutEvent {
  const payType = Number(callback.payType) as PayType;
  const extra: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (!DOCUMENTED.has(key)) extra[key] = raw[key];
  }
  if (sourceText !== undefined && Object.keys(extra).length > 0) {
    const texts = scanMembers(sourceText);
    if (texts) keepExtraTexts(extra, texts);
  }
  const dealUtc = parseDealTime(callback.dealTime, offsetMinutes);
  return {
    id: createId('evt'),
    source: 'skypay',
    type: 'payout',
    action: callback.action,
    partner: callback.userName,
    controlNumber: callback.controlNumber,
    payType,
    status: statusOf(payType),
    dealTime: callback.dealTime,
    // validateCallback already proved dealTime parses; the fallback is unreachable.
    dealTimeUtc: (dealUtc ?? receivedAt).toISOString(),
    failDescription: callback.failDescription ?? null,
    referenceNumber: callback.referenceNumber ?? null,
    extra,
    receivedAt: receivedAt.toISOString(),
    duplicates: 0,
  };
}
