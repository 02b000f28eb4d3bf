import { expect } from 'chai';
import { buildEmailContent, buildMessageId, buildSubject } from '../../../src/destinations/email-content';
import { describeTimezone } from '../../../src/destinations/present';
import { buildSlackMessage, describeFallback } from '../../../src/destinations/slack';
import { buildAnomalyEvent } from '../../../src/payouts/events';
import { buildEnvelope, describeEnvelopeType, writeEnvelope } from '../../../src/destinations/webhook';
import { keepExtraTexts } from '../../../src/event-json';
import { buildConflictEvent } from '../../../src/alerts/build';
import { buildDeadDeliveryEvent, buildPaidEvent, buildPayoutEvent, buildRejectionEvent } from '../../support/fixtures';

describe('Slack message', () => {
  it('says what happened, to which payout, and how to trace it', () => {
    const message = buildSlackMessage(buildPayoutEvent(), 'dlv_1');
    expect(message.blocks).to.deep.equal([
      { type: 'header', text: { type: 'plain_text', text: 'Payout failed' } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Control number*\nSK99123456789' },
          { type: 'mrkdwn', text: '*Partner*\nACME Remit &lt;PH&gt;' },
          { type: 'mrkdwn', text: '*Deal time*\n2018-08-07 11:58:33 GMT+8' },
          { type: 'mrkdwn', text: '*Reference number*\nREF-2018-0807-001' },
          { type: 'mrkdwn', text: '*Failure description*\nBeneficiary account closed &amp; "frozen"' },
        ],
      },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: 'Event evt_01J8Z6Q3K2M4N5P6R7S8T9V0W1 · Delivery dlv_1' }],
      },
    ]);
    expect(message.text).to.equal('Payout failed — SK99123456789 (failure): Beneficiary account closed &amp; "frozen"');
  });

  it('names every status in words', () => {
    const headlines = (['upload', 'paid', 'cancel', 'failure', 'amendedSuccess', 'amendedFailure'] as const).map(
      (status) => {
        const message = buildSlackMessage(buildPayoutEvent({ status }), 'd');
        return JSON.stringify(message.blocks?.[0]);
      },
    );
    for (const [i, words] of [
      'Payout uploaded',
      'Payout paid',
      'Payout cancelled',
      'Payout failed',
      'Payout amended',
      'Payout amendment failed',
    ].entries()) {
      expect(headlines[i]).to.include(`"text":"${words}"`);
    }
  });

  it('shows a dash for missing reference and description', () => {
    const fields = JSON.stringify(buildSlackMessage(buildPaidEvent(), 'd').blocks);
    expect(fields).to.include('*Reference number*\\n—');
    expect(fields).to.include('*Failure description*\\n—');
    expect(describeFallback(buildPaidEvent())).to.equal('Payout paid — SK99123456789 (paid): —');
  });

  it('lists a system event by its data', () => {
    const message = buildSlackMessage(buildRejectionEvent(), 'd');
    expect(message.blocks?.[0]).to.deep.equal({
      type: 'header',
      text: { type: 'plain_text', text: 'skyrelay refused a callback' },
    });
    expect(message.blocks?.[1]).to.deep.equal({
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: '*reason*\nauthentication key mismatch' },
        { type: 'mrkdwn', text: '*partner*\nACME Remit &lt;PH&gt;' },
        { type: 'mrkdwn', text: '*remoteAddress*\n203.0.113.7' },
        { type: 'mrkdwn', text: '*status*\n401' },
      ],
    });
    expect(message.text).to.equal('skyrelay refused a callback: authentication key mismatch');
    expect(buildSlackMessage(buildDeadDeliveryEvent(), 'd').blocks?.[0]).to.deep.include({
      text: { type: 'plain_text', text: 'skyrelay delivery dead' },
    });
  });

  it('stays within Block Kit limits for many data fields', () => {
    const data = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`k${i}`, i]));
    const section = buildSlackMessage(buildRejectionEvent({ data }), 'd').blocks?.[1];
    expect(section).to.have.property('fields').with.length(10);
    expect(JSON.stringify(section)).to.include('5 more fields not shown');
  });
});

describe('email content', () => {
  it('puts prefix, status in words and control number in the subject', () => {
    expect(buildSubject(buildPayoutEvent(), '[skyrelay]')).to.equal('[skyrelay] Payout failure SK99123456789');
    expect(buildSubject(buildPayoutEvent({ status: 'amendedFailure' }), '[x]')).to.equal(
      '[x] Payout amended failure SK99123456789',
    );
    expect(buildSubject(buildRejectionEvent(), '[skyrelay]')).to.equal(
      '[skyrelay] Refused callback: authentication key mismatch',
    );
    expect(buildSubject(buildDeadDeliveryEvent(), '')).to.equal('Dead delivery: HTTP 503');
  });

  it('keeps the subject on one line', () => {
    const subject = buildSubject(buildRejectionEvent({ data: { reason: 'bad\r\nBcc: victim@x.io' } }), '[s]');
    expect(subject).to.equal('[s] Refused callback: bad Bcc: victim@x.io');
  });

  it('lists every field, extras and the delivery id, with HTML escaped', () => {
    const { text, html } = buildEmailContent(buildPayoutEvent(), {
      deliveryId: 'dlv_9',
      rules: ['r1', 'r2'],
      subjectPrefix: '[s]',
    });
    for (const line of [
      'Payout failed',
      'Control number: SK99123456789',
      'Partner: ACME Remit <PH>',
      'Deal time: 2018-08-07 11:58:33 GMT+8',
      'Reference number: REF-2018-0807-001',
      'Failure description: Beneficiary account closed & "frozen"',
      'Status: failure (pay type 4)',
      'Action: notify',
      'Deal time (UTC): 2018-08-07T03:58:33.000Z',
      'Event id: evt_01J8Z6Q3K2M4N5P6R7S8T9V0W1',
      'Event type: skypay payout',
      'Received at: 2018-08-07T03:58:35.120Z',
      'Duplicate callbacks: 0',
      'Extra: branchCode: MNL-042',
      'Extra: retryCount: 2',
      'Extra: note: señor',
      'Delivery id: dlv_9',
      'Routed by: r1, r2',
    ]) {
      expect(text).to.include(line);
    }
    expect(html).to.include('<td style="padding:4px 0"><bdi>ACME Remit &lt;PH&gt;</bdi></td>');
    expect(html).to.include('Beneficiary account closed &amp; &quot;frozen&quot;');
    expect(html).to.include('dlv_9');
    expect(html).not.to.include('<PH>');
  });

  it('derives a Message-ID from the delivery id and sender domain', () => {
    expect(buildMessageId('dlv_01J8', 'Skyrelay <skyrelay@example.com>')).to.equal('<skyrelay.dlv_01J8@example.com>');
    expect(buildMessageId('a b', 'x@example.com')).to.equal(
      `<skyrelay.${Buffer.from('a b').toString('hex')}@example.com>`,
    );
    expect(buildMessageId('d', 'x@[127.0.0.1]')).to.equal('<skyrelay.d@skyrelay.invalid>');
  });
});

describe('webhook envelope', () => {
  it('types payouts by status and system events by kind', () => {
    expect(describeEnvelopeType(buildPayoutEvent())).to.equal('skypay.payout.failure');
    expect(describeEnvelopeType(buildPayoutEvent({ status: 'amendedSuccess' }))).to.equal(
      'skypay.payout.amendedSuccess',
    );
    expect(describeEnvelopeType(buildRejectionEvent())).to.equal('skyrelay.rejection');
    expect(describeEnvelopeType(buildDeadDeliveryEvent())).to.equal('skyrelay.delivery.dead');
  });

  it('wraps the event with its received time, not the attempt time', () => {
    const event = buildPayoutEvent();
    expect(buildEnvelope(event)).to.deep.equal({
      type: 'skypay.payout.failure',
      timestamp: '2018-08-07T03:58:35.120Z',
      data: event,
    });
  });

  it('writes the envelope as JSON.stringify would, bar extra fields kept as SkyPay sent them', () => {
    for (const event of [buildPayoutEvent(), buildRejectionEvent(), buildDeadDeliveryEvent()]) {
      expect(writeEnvelope(event)).to.equal(JSON.stringify(buildEnvelope(event)));
    }
    const sent = buildPayoutEvent({ extra: { amount: Number('12345678901234567890.123'), note: 'a "b"' } });
    keepExtraTexts(sent.extra, new Map([['amount', '12345678901234567890.123']]));
    const body = writeEnvelope(sent);
    expect(body).to.include('"amount":12345678901234567890.123');
    expect(JSON.parse(body)).to.deep.equal(JSON.parse(JSON.stringify(buildEnvelope(sent))));
  });
});

describe('callback.conflict alert', () => {
  const event = buildConflictEvent(
    buildPayoutEvent(),
    'evt_first',
    { copyId: 'cpy_1', repeat: false, differs: ['referenceNumber', 'extra.branchCode'] },
    new Date('2026-01-01T00:00:00Z'),
  );

  it('names the payout and the fields that differ, never their values', () => {
    expect(event).to.include({ source: 'skyrelay', type: 'callback.conflict' });
    expect(event.data).to.include({
      eventId: 'evt_first',
      copyId: 'cpy_1',
      controlNumber: 'SK99123456789',
      differs: 'referenceNumber, extra.branchCode',
    });
    expect(JSON.stringify(event)).not.to.include('REF-2018-0807-001').and.not.include('MNL-042');
    expect(describeEnvelopeType(event)).to.equal('skyrelay.callback.conflict');
    expect(buildSubject(event, '[skyrelay]')).to.equal(
      '[skyrelay] Conflicting callback: referenceNumber, extra.branchCode',
    );
  });
});

describe('deal time clock (skypay.timezone)', () => {
  it('names the configured offset, not a fixed GMT+8', () => {
    expect(['+08:00', '+07:00', '+05:30', '-03:00', '+00:00'].map(describeTimezone)).to.deep.equal([
      'GMT+8',
      'GMT+7',
      'GMT+5:30',
      'GMT-3',
      'GMT',
    ]);
  });

  it('shows the deal time in Slack and mail in the clock it is given', () => {
    const slack = JSON.stringify(buildSlackMessage(buildPayoutEvent(), 'dlv_1', '+07:00').blocks);
    expect(slack).to.contain('2018-08-07 11:58:33 GMT+7').and.not.to.contain('GMT+8');
    const mail = buildEmailContent(buildPayoutEvent(), {
      deliveryId: 'dlv_1',
      rules: [],
      subjectPrefix: '[s]',
      timezone: '+07:00',
    });
    expect(mail.text).to.contain('Deal time: 2018-08-07 11:58:33 GMT+7');
    expect(mail.html).to.contain('2018-08-07 11:58:33 GMT+7');
  });
});

describe('payout anomaly messages', () => {
  const anomaly = buildAnomalyEvent(
    buildPayoutEvent({ controlNumber: 'SK99123456789', partner: 'Acme@skypay', dealTime: '2026-11-27 10:02:31' }),
    { from: 'paid', to: 'paid', kind: 'conflict' },
    [
      {
        eventId: 'evt_a',
        status: 'paid',
        dealTime: '2026-11-27 09:41:10',
        receivedAt: '2026-11-27T01:41:12.480Z',
        kind: 'first',
      },
      {
        eventId: 'evt_b',
        status: 'failure',
        dealTime: '2026-11-27 10:02:31',
        receivedAt: '2026-11-27T02:02:33.900Z',
        kind: 'conflict',
      },
    ],
    new Date('2026-11-27T02:02:34.000Z'),
  );

  it('say plainly in Slack that a final payout changed: a SkyPay error or a forged callback', () => {
    expect(describeFallback(anomaly)).to.match(/^Payout anomaly: check the payout with SkyPay/);
    expect(describeFallback(anomaly)).to.match(/either a SkyPay error or a forged callback/);
    const blocks = JSON.stringify(buildSlackMessage(anomaly, 'dlv_1').blocks);
    expect(blocks).to.contain('paid dealTime 2026-11-27 09:41:10, received 2026-11-27T01:41:12.480Z (first)');
  });

  it('say it in the mail subject and body, with the history one status a line', () => {
    const mail = buildEmailContent(anomaly, { deliveryId: 'dlv_1', rules: ['r'], subjectPrefix: '[skyrelay]' });
    // The payout and the kind in the subject; the reason, a paragraph, in the body.
    expect(mail.subject).to.equal('[skyrelay] Payout anomaly: SK99123456789 of Acme@skypay (conflict)');
    expect(mail.text).to.match(/either a SkyPay error or a forged callback/);
    expect(mail.text).to.contain(
      'history: paid dealTime 2026-11-27 09:41:10, received 2026-11-27T01:41:12.480Z (first)\nfailure dealTime 2026-11-27 10:02:31',
    );
  });
});
