import { hash } from 'node:crypto';
import type { CallbackEvent } from '../event';
import { canonicalExtra } from '../event-json';

/**
 * A callback's identity is (partner, controlNumber, payType, dealTime): the
 * partner is part of it, so one partner cannot pre-empt another's callback.
 * Its content is everything else SkyPay sent, bar the key: a copy with the
 * same identity and the same content is a duplicate, one whose content
 * differs is a conflict that someone must look at.
 */
export function listContent(event: CallbackEvent): Map<string, string> {
  return new Map(listContentPairs(event));
}

/** listContent as [name, JSON text] pairs, in its order. */
function listContentPairs(event: CallbackEvent): [string, string][] {
  const documented: [string, unknown][] =
    event.type === 'finance'
      ? [
          ['action', event.action],
          ['transactionDate', event.transactionDate],
          ['signType', event.signType],
          ['amount', event.amount],
          ['currency', event.currency],
          ['companyPrefix', event.companyPrefix],
          ['companyName', event.companyName],
          ['sourceAccountNo', event.sourceAccountNo],
          ['beneficiaryAccountNo', event.beneficiaryAccountNo],
        ]
      : [
          ['action', event.action],
          ['failDescription', event.failDescription],
          ['referenceNumber', event.referenceNumber],
        ];
  const pairs = documented.map(([key, value]): [string, string] => [key, JSON.stringify(value)]);
  for (const [key, text] of canonicalExtra(event)) pairs.push([`extra.${key}`, text]);
  return pairs;
}

/** A callback's row in the permanent key table: its (partner, control_number, pay_type, deal_time) columns. */
export type IdentityKey = [partner: string, controlNumber: string, payType: number, dealTime: string];

/**
 * A payout callback's identity is (partner, controlNumber, payType, dealTime). A financeNotification's is
 * (partner, referenceNumber, accountNo, statementType): one reference number names one booking, and a transfer
 * between two accounts notifies each of them under it. Both live in the one permanent key table, so retention,
 * `store.dedupRetentionDays` and `skyrelay migrate-store` treat them alike: a finance key holds the
 * referenceNumber in control_number, the accountNo in deal_time and minus the statementType in pay_type, a range
 * payouts (1 to 6) never use, so the two kinds cannot collide.
 */
export function identityKey(event: CallbackEvent): IdentityKey {
  return event.type === 'finance'
    ? [event.partner, event.referenceNumber, -event.statementType, event.accountNo]
    : [event.partner, event.controlNumber, event.payType, event.dealTime];
}

/**
 * 16 bytes that stand for the content in the key table, which outlives the event and its body: the SHA-256 of
 * JSON.stringify([...listContent(event)]), which digests already stored were made of, so it never changes.
 */
export function digestContent(event: CallbackEvent): Buffer {
  return hash('sha256', JSON.stringify(listContentPairs(event)), 'buffer').subarray(0, 16);
}

/** The names of the fields whose content differs (extra fields as `extra.<name>`), in a stable order. */
export function listDifferences(first: CallbackEvent, copy: CallbackEvent): string[] {
  const a = listContent(first);
  const b = listContent(copy);
  const names = [...new Set([...a.keys(), ...b.keys()])];
  return names.filter((name) => a.get(name) !== b.get(name));
}

/**
 * SkyPay's real callback for a status skyrelay created from the status query (origin reconciliation), when its
 * content differs (a failDescription, a referenceNumber, extra fields the query does not give): not a conflict,
 * the callback completing what the query said. Returns the stored event with the callback's content (origin kept),
 * to be stored in its place with the callback's digest; undefined when `first` is not such an event or was completed.
 */
export function completeReconciled(
  first: CallbackEvent | undefined,
  callback: CallbackEvent,
): CallbackEvent | undefined {
  if (first?.type !== 'payout' || first.origin !== 'reconciliation' || callback.type !== 'payout') return undefined;
  // Completed once: after that the event holds SkyPay's content, and another content is a conflict as usual.
  const plain =
    first.failDescription === null && first.referenceNumber === null && Object.keys(first.extra).length === 0;
  if (!plain) return undefined;
  return {
    ...first,
    action: callback.action,
    failDescription: callback.failDescription,
    referenceNumber: callback.referenceNumber,
    extra: callback.extra,
  };
}
