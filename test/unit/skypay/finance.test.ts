import { expect } from 'chai';
import { checkFinanceFields, normalizeFinance } from '../../../src/skypay/finance';
import { digestContent, identityKey, listDifferences } from '../../../src/skypay/identity';

/** SkyPay's 8.1 sample (finance-notification.md), exactly as documented. */
const SAMPLE: Record<string, unknown> = {
  userName: 'AppName@skypay',
  action: 'financeNotification',
  authentication: '30AC21B2-9EAA-4503-B0F0-7BE5C277ED75',
  transctionDate: '2023-06-18 17:52:10',
  companyPrefix: 'SKY98',
  companyName: 'SKYPAY',
  accountNo: '091234567899',
  sourceAccountNo: '',
  beneficiaryAccountNo: '001234567899',
  statementType: '1',
  signType: 'recharge',
  amount: 12000000,
  currency: 'PHP',
  referenceNumber: 'D-20231204-001',
};

const refusal = (overrides: Record<string, unknown>): { field: string; rule: string } => {
  const checked = checkFinanceFields({ ...SAMPLE, ...overrides });
  if (checked.ok) throw new Error(`expected a refusal for ${JSON.stringify(overrides)}`);
  return { field: checked.field, rule: checked.rule };
};

describe('skypay/finance: the 8.1 field table', () => {
  it("accepts the documentation's sample and reads it into typed fields", () => {
    const checked = checkFinanceFields(SAMPLE);
    expect(checked).to.deep.equal({
      ok: true,
      fields: {
        userName: 'AppName@skypay',
        referenceNumber: 'D-20231204-001',
        accountNo: '091234567899',
        statementType: 1,
        signType: 'recharge',
        amount: 12000000,
        currency: 'PHP',
        transactionDate: '2023-06-18 17:52:10',
        companyPrefix: 'SKY98',
        companyName: 'SKYPAY',
        sourceAccountNo: '',
        beneficiaryAccountNo: '001234567899',
      },
    });
  });

  it('takes statementType 1 to 6 and amount as a number or digits in a string', () => {
    for (const statementType of [1, 6, '1', '6'])
      expect(checkFinanceFields({ ...SAMPLE, statementType }).ok).to.equal(true);
    for (const amount of [0, 12000000, '12000000', '0'])
      expect(checkFinanceFields({ ...SAMPLE, amount }).ok).to.equal(true);
  });

  it('reads absent or null optional accounts and company fields as ""', () => {
    const rest: Record<string, unknown> = { ...SAMPLE, beneficiaryAccountNo: null };
    delete rest['sourceAccountNo'];
    delete rest['companyName'];
    delete rest['companyPrefix'];
    const checked = checkFinanceFields(rest);
    expect(checked.ok && checked.fields).to.include({ sourceAccountNo: '', beneficiaryAccountNo: '', companyName: '' });
  });

  it('names the first bad field and its rule', () => {
    expect(refusal({ action: 'payoutInquiry' })).to.deep.equal({
      field: 'action',
      rule: 'must be exactly "financeNotification"',
    });
    expect(refusal({ referenceNumber: undefined })).to.deep.equal({ field: 'referenceNumber', rule: 'is required' });
    expect(refusal({ accountNo: '' })).to.deep.equal({
      field: 'accountNo',
      rule: 'must be a string of 1 to 50 characters',
    });
    expect(refusal({ statementType: '7' }).field).to.equal('statementType');
    expect(refusal({ statementType: 1.5 }).field).to.equal('statementType');
    expect(refusal({ signType: 'credit' })).to.deep.equal({
      field: 'signType',
      rule: 'must be "recharge" or "reduce"',
    });
    expect(refusal({ amount: -1 }).field).to.equal('amount');
    expect(refusal({ amount: 12.5 }).field).to.equal('amount');
    expect(refusal({ amount: '1e6' }).field).to.equal('amount');
    expect(refusal({ amount: 2 ** 60 }).field).to.equal('amount');
    expect(refusal({ currency: 'PESO' })).to.deep.equal({
      field: 'currency',
      rule: 'must be a 3-letter currency code',
    });
    expect(refusal({ transctionDate: '2023-02-30 10:00:00' }).field).to.equal('transctionDate');
    expect(refusal({ transctionDate: undefined, transactionDate: '2023-06-18 17:52:10' })).to.deep.equal({
      field: 'transctionDate',
      rule: 'is required',
    });
    expect(refusal({ companyPrefix: 'SKY988' }).field).to.equal('companyPrefix');
    expect(refusal({ sourceAccountNo: 12 }).field).to.equal('sourceAccountNo');
    // The table's order: the first bad field in it is named.
    expect(refusal({ amount: 'x', userName: '' }).field).to.equal('userName');
  });
});

describe('skypay/finance: the event and its identity', () => {
  const fields = (overrides: Record<string, unknown> = {}) => {
    const checked = checkFinanceFields({ ...SAMPLE, ...overrides });
    if (!checked.ok) throw new Error(checked.rule);
    return checked.fields;
  };
  const at = new Date('2023-06-18T09:52:11.000Z');

  it('becomes a finance event without the key, its time in UTC, extra fields kept', () => {
    const raw = { ...SAMPLE, Amount: 5, note: 'x' };
    const event = normalizeFinance(fields(), raw, 480, at);
    expect(event).to.deep.include({
      source: 'skypay',
      type: 'finance',
      action: 'financeNotification',
      partner: 'AppName@skypay',
      statementType: 1,
      amount: 12000000,
      transactionDate: '2023-06-18 17:52:10',
      transactionDateUtc: '2023-06-18T09:52:10.000Z',
      extra: { Amount: 5, note: 'x' },
      receivedAt: at.toISOString(),
    });
    expect(JSON.stringify(event)).not.to.include('30AC21B2');
  });

  it('is keyed by (partner, referenceNumber, accountNo, statementType), in a pay_type range payouts never use', () => {
    const event = normalizeFinance(fields({ statementType: '3' }), SAMPLE, 480, at);
    expect(identityKey(event)).to.deep.equal(['AppName@skypay', 'D-20231204-001', -3, '091234567899']);
  });

  it('tells a duplicate from a conflicting copy by everything outside the identity', () => {
    const first = normalizeFinance(fields(), SAMPLE, 480, at);
    const copy = normalizeFinance(fields(), SAMPLE, 480, new Date());
    expect(digestContent(copy).equals(digestContent(first))).to.equal(true);
    const other = normalizeFinance(fields({ amount: 1, signType: 'reduce' }), SAMPLE, 480, at);
    expect(listDifferences(first, other)).to.deep.equal(['signType', 'amount']);
  });
});
