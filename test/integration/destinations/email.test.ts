import { expect } from 'chai';
import { createEmailDestination } from '../../../src/destinations/email';
import type { EmailDestinationConfig } from '../../../src/destinations/schema';
import { PermanentDeliveryError, RetryableDeliveryError } from '../../../src/destinations/types';
import type { Destination } from '../../../src/destinations/types';
import { catchDeliveryError, dumpError } from '../../support/delivery-errors';
import { buildAnomalyEvent, buildStuckEvent } from '../../../src/payouts/events';
import { buildDeliveryRequest, buildPayoutEvent, buildRejectionEvent } from '../../support/fixtures';
import { getRefusedUrl } from '../../support/receiver';
import { startSmtpServer } from '../../support/smtp';
import type { SmtpServerHandle } from '../../support/smtp';

const USER = 'relay';
const PASSWORD = 'hunter2-Sm7p-pa55';
const TIMEOUT_MS = 300;

describe('email destination (real SMTP server)', () => {
  let smtp: SmtpServerHandle;
  const opened: Destination[] = [];

  function createEmail(overrides: Partial<EmailDestinationConfig> = {}, timeoutMs = 5000): Destination {
    const config: EmailDestinationConfig = {
      type: 'email',
      transport: smtp.url,
      from: 'Skyrelay <skyrelay@example.com>',
      to: ['ops@example.com', 'finance@example.com'],
      cc: ['audit@example.com'],
      ...overrides,
    };
    const destination = createEmailDestination('ops-mail', config, { timeoutMs });
    opened.push(destination);
    return destination;
  }

  function expectNoPassword(text: string): void {
    expect(text).not.to.include(PASSWORD);
    expect(text).not.to.include(encodeURIComponent(PASSWORD));
  }

  beforeEach(async () => {
    smtp = await startSmtpServer({ user: USER, pass: PASSWORD });
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.close()));
    await smtp.close();
  });

  it('sends a mail with every field in text and HTML, to every recipient', async () => {
    const result = await createEmail().send(buildDeliveryRequest(buildPayoutEvent(), { deliveryId: 'dlv_mail_1' }));
    expect(result.status).to.equal(250);

    const [mail] = await smtp.waitFor(1);
    expect(mail?.user).to.equal(USER);
    expect(mail?.envelope.from).to.equal('skyrelay@example.com');
    expect(mail?.envelope.to).to.have.members(['ops@example.com', 'finance@example.com', 'audit@example.com']);
    const parsed = mail?.parsed;
    expect(parsed?.subject).to.equal('[skyrelay] Payout failure SK99123456789');
    expect(parsed?.headers.get('message-id')).to.equal('<skyrelay.dlv_mail_1@example.com>');
    expect(parsed?.headers.get('x-skyrelay-delivery-id')).to.equal('dlv_mail_1');
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
      'Received at: 2018-08-07T03:58:35.120Z',
      'Duplicate callbacks: 0',
      'Extra: branchCode: MNL-042',
      'Extra: retryCount: 2',
      'Extra: note: señor',
      'Delivery id: dlv_mail_1',
    ]) {
      expect(parsed?.text).to.include(line);
    }
    for (const cell of [
      'SK99123456789',
      'ACME Remit &lt;PH&gt;',
      'Beneficiary account closed &amp; &quot;frozen&quot;',
      'señor',
      'MNL-042',
      'dlv_mail_1',
      '2018-08-07 11:58:33 GMT+8',
    ]) {
      expect(parsed?.html).to.include(cell);
    }
    expect(parsed?.html).not.to.include('<PH>');
    expectNoPassword(mail?.raw ?? '');
  });

  it('keeps the Message-ID across retries so clients drop repeats', async () => {
    const email = createEmail();
    const request = buildDeliveryRequest(buildPayoutEvent(), { deliveryId: 'dlv_same' });
    await email.send(request);
    await email.send({ ...request, attempt: 2 });
    const mails = await smtp.waitFor(2);
    expect(mails.map((m) => m.parsed.headers.get('message-id'))).to.deep.equal([
      '<skyrelay.dlv_same@example.com>',
      '<skyrelay.dlv_same@example.com>',
    ]);
  });

  it('takes a nodemailer options object and a custom subject prefix', async () => {
    const email = createEmail({
      transport: {
        host: smtp.host,
        port: smtp.port,
        secure: false,
        ignoreTLS: true,
        auth: { user: USER, pass: PASSWORD },
      },
      subjectPrefix: '[payouts]',
    });
    await email.send(buildDeliveryRequest(buildRejectionEvent()));
    const [mail] = await smtp.waitFor(1);
    expect(mail?.parsed.subject).to.equal('[payouts] Refused callback: authentication key mismatch');
    expect(mail?.parsed.text).to.include('reason: authentication key mismatch');
  });

  it("names the payout and what happened in a payout alert's subject, whole words only; the reason goes in the body", async () => {
    const failure = buildPayoutEvent({ id: 'evt_after', status: 'failure', payType: 4, partner: 'AppName@skypay' });
    const anomaly = buildAnomalyEvent(failure, { kind: 'after-final', from: 'paid', to: 'paid' }, [], new Date());
    const now = Date.now();
    const stuck = buildStuckEvent(
      {
        id: 'pay_1',
        partner: 'AppName@skypay',
        controlNumber: 'SK99123456789',
        state: 'uploaded',
        firstSeenMs: now - 7 * 3_600_000,
        lastSeenMs: now - 7 * 3_600_000,
        lastDealTime: '2018-08-07 12:00:00',
        stateSinceMs: now - 7 * 3_600_000,
        stuckState: null,
        anomalies: 0,
        confirmation: 'off',
      },
      new Date(now),
    );
    const long = buildRejectionEvent({ data: { reason: `authentication key mismatch ${'for partner '.repeat(30)}` } });
    const email = createEmail();
    for (const event of [anomaly, stuck, long]) await email.send(buildDeliveryRequest(event));
    const [a, s, r] = await smtp.waitFor(3);
    expect(a?.parsed.subject).to.equal('[skyrelay] Payout anomaly: SK99123456789 of AppName@skypay (after-final)');
    expect(a?.parsed.text).to.include('was already paid (final) and then got another status, failure');
    expect(s?.parsed.subject).to.match(/^\[skyrelay\] Payout stuck: SK99123456789 of AppName@skypay \(uploaded for 7h/);
    // A reason too long for a subject ends at a word, marked as cut.
    const subject = r?.parsed.subject ?? '';
    expect(subject.length).to.be.at.most(200);
    expect(/ (\S+)…$/.exec(subject)?.[1], subject).to.be.oneOf(['for', 'partner']);
  });

  it('gives up on 550, quoting the server', async () => {
    smtp.setMode({ kind: 'reject', code: 550, message: 'Mailbox unavailable' });
    const error = await catchDeliveryError(createEmail().send(buildDeliveryRequest(buildPayoutEvent())));
    expect(error).to.be.instanceOf(PermanentDeliveryError).and.include({ status: 550 });
    expect(error.message).to.equal('Email destination ops-mail: SMTP DATA refused: 550 Mailbox unavailable');
  });

  it('retries 451', async () => {
    smtp.setMode({ kind: 'reject', code: 451, message: 'Try again later' });
    const error = await catchDeliveryError(createEmail().send(buildDeliveryRequest(buildPayoutEvent())));
    expect(error).to.be.instanceOf(RetryableDeliveryError).and.include({ status: 451 });
  });

  it('gives up on a wrong password without repeating any password', async () => {
    const url = smtp.url.replace(encodeURIComponent(PASSWORD), encodeURIComponent(`${PASSWORD}-old`));
    const error = await catchDeliveryError(
      createEmail({ transport: url }).send(buildDeliveryRequest(buildPayoutEvent())),
    );
    expect(error).to.be.instanceOf(PermanentDeliveryError).and.include({ status: 535 });
    expectNoPassword(dumpError(error));
  });

  it('retries when the SMTP server is down, without the password in the error', async () => {
    const port = new URL(await getRefusedUrl()).port;
    const transport = `smtp://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`;
    const error = await catchDeliveryError(createEmail({ transport }).send(buildDeliveryRequest(buildPayoutEvent())));
    expect(error).to.be.instanceOf(RetryableDeliveryError);
    expect(error.message).to.match(/^Email destination ops-mail: ESOCKET: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    expectNoPassword(dumpError(error));
  });

  it('gives up on a server that never greets at timeoutMs, as retryable', async () => {
    smtp.setMode({ kind: 'silent' });
    const started = performance.now();
    const error = await catchDeliveryError(createEmail({}, TIMEOUT_MS).send(buildDeliveryRequest(buildPayoutEvent())));
    const elapsed = performance.now() - started;
    expect(error).to.be.instanceOf(RetryableDeliveryError);
    expect(error.message).to.match(/^Email destination ops-mail: (timed out: no answer within 300 ms|ETIMEDOUT: .*)$/);
    expect(elapsed).to.be.within(TIMEOUT_MS - 50, TIMEOUT_MS + 1000);
    expect(smtp.connections).to.equal(1);
  });

  it('stops when the worker aborts the attempt', async () => {
    smtp.setMode({ kind: 'silent' });
    const controller = new AbortController();
    const sending = createEmail().send(buildDeliveryRequest(buildPayoutEvent(), { signal: controller.signal }));
    controller.abort();
    const error = await catchDeliveryError(sending);
    expect(error).to.be.instanceOf(RetryableDeliveryError);
    expect(error.message).to.equal('Email destination ops-mail: the attempt was aborted');
    expect(smtp.messages).to.have.length(0);
  });
});
