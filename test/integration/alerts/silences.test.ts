import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { startReceiver, type Receiver } from '../../support/receiver';
import { buildCallback, dealTimeFromNow, postCallback } from '../../support/skypay';
import { startSmtpServer, type SmtpServerHandle } from '../../support/smtp';
import {
  ACME,
  ADMIN_TOKEN,
  admin,
  eventOf,
  inMail,
  inSlack,
  inWebhooks,
  postFailure,
  silenceConfig,
} from './silence-setup';

const inTwoHours = () => new Date(Date.now() + 2 * 3_600_000).toISOString();
/** How the admin API names the holder of ADMIN_TOKEN: the first 8 hex digits of its SHA-256, never the token. */
const TOKEN_VIA = `admin token ${createHash('sha256').update(ADMIN_TOKEN).digest('hex').slice(0, 8)}`;

describe('silences through the admin API (real daemon, Slack receiver, SMTP, webhook receiver)', function () {
  this.timeout(30_000);
  let t: TestDaemon;
  let slack: Receiver;
  let ledger: Receiver;
  let smtp: SmtpServerHandle;

  beforeEach(async () => {
    [slack, ledger, smtp] = await Promise.all([startReceiver(), startReceiver(), startSmtpServer()]);
    t = await startTestDaemon(silenceConfig(slack, smtp, ledger));
  });

  afterEach(async () => {
    await t.stop();
    await Promise.all([slack.close(), ledger.close(), smtp.close()]);
  });

  const silence = (overrides: Record<string, unknown> = {}) =>
    admin(t.baseUrl, 'POST', '/admin/silences', {
      matchers: { payType: 'failure', partner: ACME },
      endsAt: inTwoHours(),
      createdBy: 'alice',
      comment: 'Acme channel outage, ticket 123',
      ...overrides,
    });

  it('refuses bad silences with 400s naming each field, and needs the token', async () => {
    const empty = await admin(t.baseUrl, 'POST', '/admin/silences', {});
    expect(empty.status).to.equal(400);
    expect(empty.json['problems']).to.deep.equal([
      'matchers: required, an object like a rule\'s "match" with at least one field',
      'endsAt: required, expected an ISO-8601 time with a zone',
      'comment: required, a non-empty string',
    ]);
    const bad = await silence({ matchers: { payType: 'nope' }, destinations: ['pager'], endsAt: 'tomorrow' });
    expect(bad.status).to.equal(400);
    expect(bad.json['problems']).to.have.length(3);
    expect(String(bad.json['error'])).to.include('destinations: unknown destination "pager"');
    const notJson = await admin(t.baseUrl, 'POST', '/admin/silences', '{"matchers":');
    expect(notJson.status).to.equal(400);
    const noToken = await admin(t.baseUrl, 'POST', '/admin/silences', {}, 'wrong-token-wrong-token-wrong');
    expect(noToken.status).to.equal(401);
    expect((await admin(t.baseUrl, 'GET', '/admin/silences')).json['items']).to.deep.equal([]);
  });

  it('stops Slack and email for matching events only, records it on the event, and expiry restores them', async () => {
    const made = await silence();
    expect(made.status).to.equal(201);
    expect(made.json).to.deep.include({ state: 'active', createdBy: 'alice', destinations: null, expiredBy: null });
    const id = String(made.json['id']);

    const silenced = await postFailure(t, ACME);
    const other = await postFailure(t, 'AppName@skypay');
    await slack.waitFor((rs) => inSlack(slack).includes(other) && rs.length >= 1);
    await smtp.waitFor(() => inMail(smtp).includes(other));
    await ledger.waitFor(() => inWebhooks(ledger).includes(silenced) && inWebhooks(ledger).includes(other));
    const detail = await eventOf(t.baseUrl, silenced);
    expect(detail.deliveries.map((d) => d.destination)).to.deep.equal(['ledger']);
    expect(detail.silenced).to.deep.equal([
      { destination: 'ops-email', silenceId: id, rules: ['problems'] },
      { destination: 'ops-slack', silenceId: id, rules: ['problems'] },
    ]);

    // Expiry records the name given, beside the credential; then it is recorded once.
    const expired = await admin(t.baseUrl, 'DELETE', `/admin/silences/${id}?expiredBy=bob`);
    expect(expired.status).to.equal(200);
    expect(expired.json).to.deep.include({ id, state: 'expired', expiredBy: 'bob', expiredVia: TOKEN_VIA });
    const again = await admin(t.baseUrl, 'DELETE', `/admin/silences/${id}`, { expiredBy: 'carol' });
    expect(again.status).to.equal(409);
    expect((await admin(t.baseUrl, 'DELETE', '/admin/silences/sil_none?expiredBy=bob')).status).to.equal(404);

    // Restored at once in the process that expired it; and nothing silenced is sent afterwards.
    const after = await postFailure(t, ACME);
    await slack.waitFor(() => inSlack(slack).includes(after));
    await smtp.waitFor(() => inMail(smtp).includes(after));
    expect((await eventOf(t.baseUrl, after)).silenced).to.deep.equal([]);
    expect(inSlack(slack)).to.not.include(silenced);
    expect(inMail(smtp)).to.not.include(silenced);
  });

  it('refuses what used to silence everything: a typo, a pattern matching anything, health alerts, forever', async () => {
    const typo = await silence({ matchers: { payTyp: { exists: false } } });
    expect(typo.status).to.equal(400);
    expect(String(typo.json['error'])).to.match(/^matchers: payTyp: unknown field \(did you mean "payType"\?\)/);
    for (const matchers of [{ payType: { regex: '' } }, { type: { regex: '.' } }]) {
      const broad = await silence({ matchers });
      expect(broad.status, JSON.stringify(matchers)).to.equal(400);
      expect(String(broad.json['error'])).to.match(/^matchers: would match every payout event/);
    }
    const health = await silence({ matchers: { type: 'database.lost' }, force: true });
    expect(health.status).to.equal(400);
    expect(String(health.json['error'])).to.include("names skyrelay's own health alerts");
    const forever = await silence({ endsAt: '9999-12-31T00:00:00Z' });
    expect(forever.status).to.equal(400);
    expect(forever.json['problems']).to.deep.equal([
      'endsAt: at most 7 days after startsAt (silences.maxDurationMs); make a new silence if the outage outlasts it',
    ]);
    expect((await admin(t.baseUrl, 'GET', '/admin/silences')).json['items']).to.deep.equal([]);

    // Meant: forced, it is made, and it still holds back only people's channels.
    const forced = await silence({ matchers: { payType: { regex: '' } }, force: true });
    expect(forced.status).to.equal(201);
    const control = await postFailure(t, 'AppName@skypay');
    await ledger.waitFor(() => inWebhooks(ledger).includes(control));
    expect((await eventOf(t.baseUrl, control)).silenced.map((s) => s.destination)).to.deep.equal([
      'ops-email',
      'ops-slack',
    ]);
  });

  it('records who from the credential: the admin token fingerprint and address, with or without a typed name', async () => {
    const unnamed = { matchers: { payType: 'failure', partner: ACME }, endsAt: inTwoHours(), comment: 'no name typed' };
    const made = await admin(t.baseUrl, 'POST', '/admin/silences', unnamed);
    expect(made.status).to.equal(201);
    expect(made.json).to.deep.include({ createdBy: TOKEN_VIA, createdVia: TOKEN_VIA });
    expect(String(made.json['createdFrom'])).to.match(/127\.0\.0\.1$/);
    const typed = await silence({ createdBy: 'the CEO' });
    expect(typed.json).to.deep.include({ createdBy: 'the CEO', createdVia: TOKEN_VIA });

    // Expiring needs no name: the credential is the name then.
    const expired = await admin(t.baseUrl, 'DELETE', `/admin/silences/${String(made.json['id'])}`);
    expect(expired.status, JSON.stringify(expired.json)).to.equal(200);
    expect(expired.json).to.deep.include({ state: 'expired', expiredBy: TOKEN_VIA, expiredVia: TOKEN_VIA });
    expect(String(expired.json['expiredFrom'])).to.match(/127\.0\.0\.1$/);
    const blank = await admin(t.baseUrl, 'DELETE', `/admin/silences/${String(typed.json['id'])}?expiredBy=`);
    expect(blank.status).to.equal(400);
  });

  it('matches a catastrophic-backtracking pattern in linear time: the callback is answered, the daemon stays live', async () => {
    const made = await silence({ matchers: { failDescription: { regex: '^(a+)+$' } } });
    expect(made.status).to.equal(201);
    // 40 a's and a "!": a backtracking engine tries 2^40 ways (598 ms at 26 characters, x4 per 2 more).
    const body = buildCallback({ payType: '4', dealTime: dealTimeFromNow(), failDescription: `${'a'.repeat(40)}!` });
    const answered = await postCallback(t.callbackUrl, body);
    expect(answered.json?.['responseCode'], answered.text).to.equal('1000');
    expect((await fetch(`${t.baseUrl}/healthz`)).status).to.equal(200);
    const held = buildCallback({ payType: '4', dealTime: dealTimeFromNow(), failDescription: 'a'.repeat(40) });
    expect((await postCallback(t.callbackUrl, held)).json?.['responseCode']).to.equal('1000');
    expect((await eventOf(t.baseUrl, String(held['controlNumber']))).silenced).to.have.length(2);
    expect((await eventOf(t.baseUrl, String(body['controlNumber']))).silenced).to.deep.equal([]);
  });

  it('silences a webhook only when it names it, and then only the destinations it names', async () => {
    const made = await silence({ destinations: ['ledger', 'ops-email'] });
    expect(made.status).to.equal(201);
    const control = await postFailure(t, ACME);
    await slack.waitFor(() => inSlack(slack).includes(control));
    const detail = await eventOf(t.baseUrl, control);
    expect(detail.deliveries.map((d) => d.destination)).to.deep.equal(['ops-slack']);
    expect(detail.silenced.map((s) => s.destination)).to.deep.equal(['ledger', 'ops-email']);
    expect(inWebhooks(ledger)).to.not.include(control);
  });

  it('lists silences newest first with paging, active and expired alike, with a future one pending', async () => {
    const first = await silence();
    const second = await silence({ startsAt: new Date(Date.now() + 3_600_000).toISOString() });
    const third = await silence({ createdBy: 'dave' });
    await admin(t.baseUrl, 'DELETE', `/admin/silences/${String(first.json['id'])}?expiredBy=bob`);
    const page1 = await admin(t.baseUrl, 'GET', '/admin/silences?limit=2');
    const items = page1.json['items'] as { id: string; state: string }[];
    expect(items.map((s) => [s.id, s.state])).to.deep.equal([
      [third.json['id'], 'active'],
      [second.json['id'], 'pending'],
    ]);
    const page2 = await admin(t.baseUrl, 'GET', String(page1.json['next']));
    expect((page2.json['items'] as { id: string; state: string }[]).map((s) => [s.id, s.state])).to.deep.equal([
      [first.json['id'], 'expired'],
    ]);
    expect(page2.json['next']).to.equal(null);
    expect((await admin(t.baseUrl, 'GET', '/admin/silences?limit=0')).status).to.equal(400);
  });
});
