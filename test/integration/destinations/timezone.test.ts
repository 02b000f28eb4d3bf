import { expect } from 'chai';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { startReceiver, type Receiver } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';
import { startSmtpServer, type SmtpServerHandle } from '../../support/smtp';

/** Slack and mail name the clock of the deal time from skypay.timezone, not a hard-coded GMT+8. */
describe('deal time in the configured skypay.timezone (real daemon, Slack receiver, SMTP)', () => {
  let slack: Receiver;
  let smtp: SmtpServerHandle;
  let t: TestDaemon;

  before(async () => {
    [slack, smtp] = await Promise.all([startReceiver(), startSmtpServer()]);
    t = await startTestDaemon({
      skypay: { timezone: '+07:00' },
      destinations: {
        'ops-slack': { type: 'slack', url: `${slack.url}/services/T000/B000/XXXX` },
        'ops-email': { type: 'email', transport: smtp.url, from: 'skyrelay@example.com', to: ['ops@example.com'] },
      },
      rules: [{ name: 'all', to: ['ops-slack', 'ops-email'] }],
      delivery: { timeoutMs: 2000, pollIntervalMs: 100 },
    });
  });
  after(async () => {
    await t.stop();
    await Promise.all([slack.close(), smtp.close()]);
  });

  it('shows the deal time as GMT+7 in Slack and in mail', async () => {
    const body = buildCallback({ dealTime: '2018-08-07 11:58:33' });
    expect((await postCallback(t.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
    const controlNumber = String(body['controlNumber']);

    const [message] = await slack.waitFor((rs) => rs.some((r) => r.body.includes(controlNumber)));
    expect(message?.body).to.contain('2018-08-07 11:58:33 GMT+7').and.not.to.contain('GMT+8');

    const mails = await smtp.waitFor((ms) => ms.some((m) => m.raw.includes(controlNumber)));
    const mail = mails.find((m) => m.raw.includes(controlNumber));
    expect(mail?.parsed.text).to.contain('Deal time: 2018-08-07 11:58:33 GMT+7');
  });
});
