import { createHash } from 'node:crypto';
import type { PayoutEvent } from '../event';
import { canonicalExtra } from '../event-json';

/**
 * A callback's identity is (partner, controlNumber, payType, dealTime): the
 * partner is part of it, so one partner cannot pre-empt another's callback.
 * Its content is everything else SkyPay sent, bar the key: a copy with the
 * same identity and the same content is a duplicate, one whose content
 * differs is a conflict that someone must look at.
 */
export function listContent(event: PayoutEvent): Map<string, string> {
  return new Map([
    ['action', JSON.stringify(event.action)],
    ['failDescription', JSON.stringify(event.failDescription)],
    ['referenceNumber', JSON.stringify(event.referenceNumber)],
    ...canonicalExtra(event).map(([key, text]): [string, string] => [`extra.${key}`, text]),
  ]);
}

/** 16 bytes that stand for the content in the key table, which outlives the event and its body. */
export function digestContent(event: PayoutEvent): Buffer {
  return createHash('sha256')
    .update(JSON.stringify([...listContent(event)]))
    .digest()
    .subarray(0, 16);
}

/** The names of the fields whose content differs (extra fields as `extra.<name>`), in a stable order. */
export function listDifferences(first: PayoutEvent, copy: PayoutEvent): string[] {
  const a = listContent(first);
  const b = listContent(copy);
  const names = [...new Set([...a.keys(), ...b.keys()])];
  return names.filter((name) => a.get(name) !== b.get(name));
}
