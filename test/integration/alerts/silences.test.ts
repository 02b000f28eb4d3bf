import { expect } from 'chai';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { startReceiver, type Receiver } from '../../support/receiver';
import { startSmtpServer, type SmtpServerHandle } from '../../support/smtp';
import { ACME, admin, eventOf, inMail, inSlack, inWebhooks, postFailure, silenceConfig } from './silence-setup';

const inTwoHours = () => new Date(Date.now() + 2 * 3_600_000).toISOString();

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
      'createdBy: required, a non-empty string',
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

    // Expiry needs a name for the audit; then it is recorded once.
    expect((await admin(t.baseUrl, 'DELETE', `/admin/silences/${id}`)).status).to.equal(400);
    const expired = await admin(t.baseUrl, 'DELETE', `/admin/silences/${id}?expiredBy=bob`);
    expect(expired.status).to.equal(200);
    expect(expired.json).to.deep.include({ id, state: 'expired', expiredBy: 'bob' });
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
