import { expect } from 'chai';
import { buildConflictEvent } from '../../../src/alerts/build';
import { buildEmailContent, buildSubject } from '../../../src/destinations/email-content';
import { buildSlackMessage, describeFallback } from '../../../src/destinations/slack';
import { describeEnvelopeType } from '../../../src/destinations/webhook';
import { buildFinanceEvent } from '../../support/fixtures';

describe('finance notifications, as people read them', () => {
  it('Slack: what moved (header), the amount as sent with its currency, the account and reference', () => {
    const message = buildSlackMessage(buildFinanceEvent(), 'dlv_1');
    expect(message.blocks?.[0]).to.deep.equal({
      type: 'header',
      text: { type: 'plain_text', text: 'Account credited: payout account top-up' },
    });
    expect(message.blocks?.[1]).to.deep.equal({
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: '*Amount*\n12000000 PHP' },
        { type: 'mrkdwn', text: '*Direction*\nrecharge (credit)' },
        { type: 'mrkdwn', text: '*Statement*\n1: payout account top-up' },
        { type: 'mrkdwn', text: '*Account number*\n091234567899' },
        { type: 'mrkdwn', text: '*Reference number*\nD-20231204-001' },
        { type: 'mrkdwn', text: '*Partner*\nAppName@skypay' },
        { type: 'mrkdwn', text: '*Transaction time*\n2023-06-18 17:52:10 GMT+8' },
        { type: 'mrkdwn', text: '*Source account*\n—' },
        { type: 'mrkdwn', text: '*Beneficiary account*\n001234567899' },
      ],
    });
    expect(message.text).to.equal(
      'Account credited: payout account top-up — 12000000 PHP on account 091234567899, reference D-20231204-001',
    );
  });

  it('Slack: a debit reads as one, and sender text is neutralised', () => {
    const event = buildFinanceEvent({ statementType: 6, signType: 'reduce', accountNo: '<!channel>' });
    expect(describeFallback(event)).to.equal(
      'Account debited: withdrawal from the payout account — 12000000 PHP on account &lt;!channel&gt;, reference D-20231204-001',
    );
  });

  it('email: a subject with direction, amount and account, and every field in the body', () => {
    const event = buildFinanceEvent({ extra: { Amount: 5 } });
    expect(buildSubject(event, '[skyrelay]')).to.equal('[skyrelay] Finance recharge 12000000 PHP account 091234567899');
    const content = buildEmailContent(event, { deliveryId: 'dlv_1', rules: ['top-ups'], subjectPrefix: '[skyrelay]' });
    for (const line of [
      'Amount: 12000000 PHP',
      'Statement: 1: payout account top-up',
      'Company: SKYPAY (SKY98)',
      'Transaction time (UTC): 2023-06-18T09:52:10.000Z',
      'Extra: Amount: 5',
    ]) {
      expect(content.text).to.include(line);
    }
  });

  it('webhook: typed skypay.finance.<signType>', () => {
    expect(describeEnvelopeType(buildFinanceEvent())).to.equal('skypay.finance.recharge');
    expect(describeEnvelopeType(buildFinanceEvent({ signType: 'reduce' }))).to.equal('skypay.finance.reduce');
  });
});

describe('a conflicting finance notification, as an alert', () => {
  it('names the finance identity and the fields that differ, no payout fields', () => {
    const alert = buildConflictEvent(
      buildFinanceEvent({ amount: 1 }),
      'evt_first',
      { copyId: 'cpy_1', repeat: false, differs: ['amount'] },
      new Date('2026-11-27T00:00:00Z'),
    );
    expect(alert.type).to.equal('callback.conflict');
    expect(alert.data).to.deep.include({
      eventId: 'evt_first',
      copyId: 'cpy_1',
      callback: 'financeNotification',
      referenceNumber: 'D-20231204-001',
      accountNo: '091234567899',
      statementType: 1,
      differs: 'amount',
    });
    expect(alert.data).not.to.have.property('controlNumber');
  });
});
