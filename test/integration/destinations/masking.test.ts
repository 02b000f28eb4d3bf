import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import { ConfigError, validateConfig } from '../../../src/config/load';
import { mergeDeep, readDefaultConfig, startTestDaemon, type TestDaemon } from '../../support/daemon';
import { startReceiver, type Receiver } from '../../support/receiver';
import { buildCallback, dealTimeFromNow, postCallback } from '../../support/skypay';
import { startSmtpServer, type SmtpServerHandle } from '../../support/smtp';

const SECRET = `whsec_${Buffer.from('masking-tests-signing-secret-0001').toString('base64')}`;
const REFERENCE = 'MLA001041380755361119';
const ACCOUNT = '0093716648210457';
const FAILURE = 'Beneficiary account closed';

/** Issue 11 §4: omit and mask per destination, in what Slack, email and webhook receivers get; the store keeps all. */
describe('masking per destination (real Slack receiver, SMTP, webhook receiver)', function () {
  this.timeout(30_000);
  let t: TestDaemon;
  let slack: Receiver;
  let ledger: Receiver;
  let smtp: SmtpServerHandle;

  before(async () => {
    [slack, ledger, smtp] = await Promise.all([startReceiver(), startReceiver(), startSmtpServer()]);
    t = await startTestDaemon({
      destinations: {
        'ops-slack': {
          type: 'slack',
          url: `${slack.url}/services/T0/B0/masking`,
          omit: ['failDescription', 'extra.account'],
          mask: ['referenceNumber'],
        },
        'ops-email': {
          type: 'email',
          transport: smtp.url,
          from: 'skyrelay@example.com',
          to: ['ops@example.com'],
          omit: ['failDescription'],
          mask: ['referenceNumber', 'extra.account'],
        },
        ledger: {
          type: 'webhook',
          url: `${ledger.url}/hooks`,
          secret: SECRET,
          mask: ['referenceNumber'],
          omit: ['extra.account'],
        },
        audit: { type: 'webhook', url: `${ledger.url}/audit`, secret: SECRET },
      },
      rules: [{ name: 'all', to: ['ops-slack', 'ops-email', 'ledger', 'audit'] }],
      delivery: { pollIntervalMs: 100 },
      admin: { token: 'admin-token-for-masking-tests-01' },
    });
  });

  after(async () => {
    await t.stop();
    await Promise.all([slack.close(), ledger.close(), smtp.close()]);
  });

  it('hides the configured fields in each body, and keeps the stored event and other destinations whole', async () => {
    const callback = buildCallback({
      payType: '4',
      dealTime: dealTimeFromNow(),
      referenceNumber: REFERENCE,
      failDescription: FAILURE,
      account: ACCOUNT,
      branch: 'MNL-042',
    });
    const res = await postCallback(t.callbackUrl, callback);
    expect(res.json?.['responseCode']).to.equal('1000');
    const [slackRequest] = await slack.waitFor(1);
    const [mail] = await smtp.waitFor(1);
    const requests = await ledger.waitFor(2);

    const slackText = slackRequest?.body ?? '';
    // Slack shows the mask's asterisks as lookalikes (∗), as it does every asterisk a value holds (mrkdwn.ts).
    expect(slackText).to.include('\u2217\u2217\u2217\u22171119').and.include(String(callback['controlNumber']));
    expect(slackText).to.not.include(REFERENCE);
    expect(slackText).to.not.include(ACCOUNT);
    expect(slackText).to.not.include('Failure description').and.not.include(FAILURE);

    const mailText = `${mail?.parsed.text ?? ''}\n${String(mail?.parsed.html)}`;
    expect(mail?.parsed.text).to.include('****1119').and.include('****0457').and.include('MNL-042');
    expect(mailText).to.not.include(REFERENCE);
    expect(mailText).to.not.include(ACCOUNT);
    expect(mailText).to.not.include('Failure description').and.not.include(FAILURE);

    const hook = requests.find((r) => r.url === '/hooks');
    const envelope = new Webhook(SECRET).verify(hook?.body ?? '', hook?.headers as Record<string, string>) as {
      data: Record<string, unknown>;
    };
    expect(envelope.data['referenceNumber']).to.equal('****1119');
    expect(envelope.data['failDescription']).to.equal(FAILURE);
    expect(envelope.data['extra']).to.deep.equal({ branch: 'MNL-042' });
    expect(hook?.body).to.not.include(ACCOUNT);

    // No masking configured: the whole event, as stored.
    const audit = JSON.parse(requests.find((r) => r.url === '/audit')?.body ?? '{}') as {
      data: Record<string, unknown>;
    };
    expect(audit.data).to.deep.include({ referenceNumber: REFERENCE, failDescription: FAILURE });
    const stored = await fetch(`${t.baseUrl}/admin/events/${String(audit.data['id'])}`, {
      headers: { authorization: 'Bearer admin-token-for-masking-tests-01' },
    });
    const detail = (await stored.json()) as { event: Record<string, unknown> };
    expect(detail.event).to.deep.include({ referenceNumber: REFERENCE, failDescription: FAILURE });
    expect(detail.event['extra']).to.deep.equal({ account: ACCOUNT, branch: 'MNL-042' });
  });

  it('refuses an unknown field name at start, naming the destination and the field', () => {
    const raw = mergeDeep(readDefaultConfig(), {
      destinations: {
        'ops-slack': { type: 'slack', url: 'https://hooks.slack.com/services/T/B/X', mask: ['referenceNo'] },
      },
    });
    expect(() => validateConfig(raw))
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(/destinations\.ops-slack\.mask\.0: .*unknown field "referenceNo"/);
  });
});
