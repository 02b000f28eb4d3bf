import { expect } from 'chai';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';
import { startSmtpServer, type SmtpServerHandle } from '../../support/smtp';

interface SlackBody {
  text: string;
  blocks: { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: { text: string }[] }[];
}
const slackBody = (r: RecordedRequest): SlackBody => r.json as SlackBody;
const fieldTexts = (body: SlackBody): string[] => body.blocks.flatMap((b) => (b.fields ?? []).map((f) => f.text));

/** A Content-Type header as an attacker writes it: valid on the wire, bold text and a phishing link in Slack. */
const CRAFTED_TYPE =
  'text/html; note="*URGENT* payouts frozen, re-verify at <https://evil.example/login|SkyPay portal>"';

describe('attacker text in alerts and relayed payouts (real daemon, real Slack receiver and SMTP server)', function () {
  this.timeout(15_000);
  let t: TestDaemon;
  let slack: Receiver;
  let smtp: SmtpServerHandle;

  before(async () => {
    [slack, smtp] = await Promise.all([startReceiver(), startSmtpServer()]);
    t = await startTestDaemon({
      destinations: {
        'ops-slack': { type: 'slack', url: `${slack.url}/services/T000/B000/untrustedTextTest` },
        'ops-email': { type: 'email', transport: smtp.url, from: 'skyrelay@example.com', to: ['ops@example.com'] },
      },
      rules: [
        { name: 'refusals', match: { type: 'rejection' }, to: ['ops-slack', 'ops-email'] },
        { name: 'failures', match: { payType: 'failure' }, to: ['ops-slack'] },
      ],
      delivery: { pollIntervalMs: 50 },
    });
  });
  after(async () => {
    await t.stop();
    await Promise.all([slack.close(), smtp.close()]);
  });

  it("describes a 415's Content-Type by its size, never repeating it in Slack, email or the reply", async () => {
    const res = await postCallback(t.callbackUrl, buildCallback(), { contentType: CRAFTED_TYPE });
    expect(res.status).to.equal(415);
    const size = Buffer.byteLength(CRAFTED_TYPE);
    expect(res.json?.['responseDescription']).to.equal(
      `unsupported content type, ${size} bytes: send application/json, or text/plain with an encrypted body`,
    );
    const [alert] = await slack.waitFor(1);
    const [mail] = await smtp.waitFor(1);
    for (const text of [alert?.body ?? '', mail?.raw ?? '']) {
      expect(text).to.include(`unsupported content type, ${size} bytes`);
      expect(text).not.to.include('evil.example');
      expect(text).not.to.include('URGENT');
    }
    expect(t.logs.join('')).not.to.include('evil.example');
  });

  it('relays a failDescription with mrkdwn and a link as plain text', async () => {
    const failDescription = '*bold* _it_ ~gone~ `code` <http://evil|click> & more';
    const body = buildCallback({ payType: '4', failDescription });
    expect((await postCallback(t.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
    const request = (await slack.waitFor((rs) => rs.some((r) => r.body.includes(String(body['controlNumber']))))).find(
      (r) => r.body.includes(String(body['controlNumber'])),
    ) as RecordedRequest;
    const message = slackBody(request);
    const escaped = '∗bold∗ ˍitˍ ∼gone∼ ˋcodeˋ &lt;http://evil|click&gt; &amp; more';
    expect(message.text).to.include(escaped);
    expect(fieldTexts(message)).to.include(`*Failure description*\n${escaped}`);
    expect(request.body).not.to.match(/<http|\*bold\*|_it_|~gone~|`code`/);
  });

  it('strips bidirectional controls from Slack and plain-text mail, and isolates the text in HTML mail', async () => {
    const bidi = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
    const claimed = 'Mallory\u202eyaP\u2066ykS\u2069\u200f@skypay';
    const res = await postCallback(t.callbackUrl, buildCallback({ userName: claimed }));
    expect(res.status).to.equal(401);
    const failure = buildCallback({ payType: '4', failDescription: 'closed \u202eDIAP\u200e', note: '\u2067x\u202a' });
    expect((await postCallback(t.callbackUrl, failure)).json?.['responseCode']).to.equal('1000');
    const requests = await slack.waitFor(
      (rs) =>
        rs.some((r) => r.body.includes('MalloryyaPykS@skypay')) &&
        rs.some((r) => r.body.includes(String(failure['controlNumber']))),
    );
    const mails = await smtp.waitFor((ms) => ms.some((m) => m.parsed.text.includes('MalloryyaPykS@skypay')));
    const mail = mails.find((m) => m.parsed.text.includes('MalloryyaPykS@skypay'));
    for (const r of requests) expect(bidi.test(r.body), r.body).to.equal(false);
    const relayed = requests.find((r) => r.body.includes(String(failure['controlNumber'])));
    expect(fieldTexts(slackBody(relayed!))).to.include('*Failure description*\nclosed DIAP');
    expect(bidi.test(mail?.parsed.subject ?? ''), mail?.parsed.subject).to.equal(false);
    expect(bidi.test(mail?.parsed.text ?? ''), mail?.parsed.text).to.equal(false);
    const html = String(mail?.parsed.html);
    expect(bidi.test(html)).to.equal(false);
    expect(html).to.include('<bdi>MalloryyaPykS@skypay</bdi>');
  });

  it("caps Slack text at 3,000 characters and every field within Block Kit's 2,000", async () => {
    const body = buildCallback({ payType: '4', failDescription: `${'&'.repeat(5_000)}${'x'.repeat(20_000)}` });
    expect((await postCallback(t.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
    const request = (await slack.waitFor((rs) => rs.some((r) => r.body.includes(String(body['controlNumber']))))).find(
      (r) => r.body.includes(String(body['controlNumber'])),
    ) as RecordedRequest;
    const message = slackBody(request);
    expect(message.text.length).to.be.within(2_990, 3_000);
    expect(message.text).to.match(/(&amp;)+…$/);
    for (const field of fieldTexts(message)) expect(field.length).to.be.at.most(2_000);
    const description = fieldTexts(message).find((f) => f.startsWith('*Failure description*'));
    expect(description).to.match(/^\*Failure description\*\n(&amp;)+…$/);
  });
});

describe('a forwarded address under server.trustProxy (real daemon, real Slack receiver)', () => {
  it('reaches the alert only when it is an IP address; otherwise only its size does', async () => {
    const slack = await startReceiver();
    const t = await startTestDaemon({
      server: { trustProxy: true },
      destinations: { 'ops-slack': { type: 'slack', url: `${slack.url}/services/T000/B000/forwardedTest` } },
      rules: [{ name: 'refusals', match: { type: 'rejection' }, to: ['ops-slack'] }],
      delivery: { pollIntervalMs: 50 },
    });
    try {
      const forwarded = '*URGENT* <https://evil.example/login|re-verify>';
      const res = await fetch(t.callbackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwarded },
        body: JSON.stringify(buildCallback({ authentication: 'WRONG-KEY-0000' })),
      });
      expect(res.status).to.equal(401);
      const [alert] = await slack.waitFor(1);
      expect(alert?.body).to.include(`not an IP address, ${Buffer.byteLength(forwarded)} bytes`);
      expect(alert?.body).not.to.include('evil.example');
      expect(t.logs.join('')).not.to.include('evil.example');
    } finally {
      await t.stop();
      await slack.close();
    }
  });
});
