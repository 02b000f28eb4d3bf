import { expect } from 'chai';
import { buildGroupMessage } from '../../../src/alerts/grouping/message';
import { buildEmailContent } from '../../../src/destinations/email-content';
import { buildSlackMessage } from '../../../src/destinations/slack';
import { buildPayoutEvent } from '../../support/fixtures';

function groupOf(total: number, named: number) {
  const listed = Array.from({ length: Math.min(total, 20) }, (_, i) =>
    buildPayoutEvent({ id: `evt_${i}`, controlNumber: `SK${1000 + i}`, partner: 'Acme@skypay' }),
  );
  const moreNames = Array.from({ length: named }, (_, i) => `SK${2000 + i}`);
  return buildGroupMessage(
    'ops',
    JSON.stringify({ payType: 'failure', partner: 'Acme@skypay' }),
    { listed, total, counts: { failure: total - 2, amendedFailure: 2 }, rules: ['problems'], moreNames },
    new Date('2026-11-27T08:00:00Z'),
  ).event;
}

describe('group messages as Slack and email show them', () => {
  it('Slack: a header with the counts, the group, 20 escaped lines, and every other control number', () => {
    const event = groupOf(300, 280);
    const message = buildSlackMessage(event, 'dlv_group_1', '+08:00');
    const blocks = message.blocks ?? [];
    const texts = blocks.map((b) => JSON.stringify(b));
    expect(texts[0]).to.include('300 payout events: 298 failure, 2 amendedFailure');
    expect(texts[1]).to.include('payType failure · partner Acme@skypay');
    expect(texts[2]).to.include('• SK1000 · 2018-08-07 11:58:33 GMT+8 · failure · Beneficiary account closed &amp;');
    expect(texts[2]).to.include('and 280 more (278 failure, 2 amendedFailure):');
    const all = texts.join('');
    for (let i = 0; i < 20; i++) expect(all).to.include(`SK${1000 + i}`);
    for (let i = 0; i < 280; i++) expect(all).to.include(`SK${2000 + i}`);
    for (const block of blocks) {
      if (block.type === 'section' && 'text' in block && block.text) expect(block.text.text.length).to.be.at.most(3000);
    }
    expect(blocks.length).to.be.at.most(50);
    expect(message.text).to.equal(
      '300 payout events: 298 failure, 2 amendedFailure (payType failure · partner Acme@skypay)',
    );
  });

  it('says how many it does not name when a group outgrows the message', () => {
    const event = groupOf(1000, 500);
    const all = JSON.stringify(buildSlackMessage(event, 'dlv_group_2').blocks);
    expect(all).to.include('and 480 more not named here');
  });

  it('email: subject with the counts, a member table, the rest named, and the trace', () => {
    const event = groupOf(23, 3);
    const mail = buildEmailContent(event, {
      deliveryId: 'dlv_group_3',
      rules: ['problems'],
      subjectPrefix: '[skyrelay]',
    });
    expect(mail.subject).to.equal(
      '[skyrelay] 23 payout events: 21 failure, 2 amendedFailure (payType failure · partner Acme@skypay)',
    );
    expect(mail.text).to.include(
      'SK1000 | Acme@skypay | failure | 2018-08-07 11:58:33 GMT+8 | Beneficiary account closed',
    );
    expect(mail.text).to.include('and 3 more (2 amendedFailure, 1 failure):\nSK2000, SK2001, SK2002');
    expect(mail.text).to.include('Delivery id: dlv_group_3');
    expect(mail.html).to.include('<th align="left" valign="top" style="padding:4px 12px 4px 0">Control number</th>');
    expect(mail.html).to.include('Beneficiary account closed &amp; &quot;frozen&quot;');
  });
});
