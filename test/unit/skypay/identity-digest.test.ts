import { expect } from 'chai';
import { keepExtraTexts } from '../../../src/event-json';
import { digestContent } from '../../../src/skypay/identity';
import { buildFinanceEvent, buildPayoutEvent } from '../../support/fixtures';

/**
 * The digest is stored in the permanent key table and compared with every later copy's: a change in how it is
 * computed would turn each duplicate after an upgrade into a conflict. These bytes were computed by the build before
 * the digest was written without the Map and with a one-shot hash.
 */
describe('skypay/identity: the stored content digest', () => {
  it('keeps the bytes of digests already stored, documented fields, extra fields and finance alike', () => {
    const payout = buildPayoutEvent({
      action: 'notify',
      failDescription: 'closed & "frozen"',
      referenceNumber: 'REF-1',
      extra: {},
    });
    const extra = buildPayoutEvent({
      action: 'notify',
      failDescription: null,
      referenceNumber: null,
      extra: { amount: 1, 'note "x"': 'señor\n' },
    });
    keepExtraTexts(extra.extra, new Map([['amount', ' 12345678901234567890.123 ']]));
    const finance = buildFinanceEvent({ amount: 12000000, currency: 'PHP', signType: 'recharge', extra: {} });
    expect([payout, extra, finance].map((e) => digestContent(e).toString('hex'))).to.deep.equal([
      '547c2d2520e9d820468ef6170a161164',
      '9c9c630b26a1872a59a78f11dc0decdf',
      '8850f5727e94fe7be11134e760a01d3d',
    ]);
  });
});
