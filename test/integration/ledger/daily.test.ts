import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { dayOf } from '../../../src/ledger/balance';
import { makeTempDir, startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';
import { getRefusedUrl, replies, startReceiver, type Receiver } from '../../support/receiver';
import { SAMPLE_AUTH, SAMPLE_PARTNER, buildCallback, dealTimeFromNow, postCallback } from '../../support/skypay';
import { startSmtpServer, type SmtpServerHandle } from '../../support/smtp';

const DAY_MS = 86_400_000;
const PUBLIC_URL = 'https://relay.example.com';
const TOKEN = 'daily-ledger-admin-token-01234567';
const SECRET = `whsec_${Buffer.from('daily-ledger-signing-secret-0001').toString('base64')}`;

async function admin(t: TestDaemon, method: string, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${t.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
  const body = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(body)).to.equal(200);
  return body;
}

async function deliveriesIn(t: TestDaemon, destination: string, state: string): Promise<number> {
  const page = await admin(t, 'GET', `/admin/deliveries?destination=${destination}&state=${state}&limit=100`);
  return (page['items'] as unknown[]).length;
}

/** Slack's text of one message: the header and the table's code block. */
const slackText = (body: string): string => {
  const blocks = (JSON.parse(body) as { blocks: { text?: { text: string } }[] }).blocks;
  return blocks.map((b) => b.text?.text ?? '').join('\n');
};

/** Two daemons on one store: PostgreSQL (two hosts) or one SQLite file (two processes of a host). */
function proveDaily(openStore: () => Promise<{ store: Record<string, unknown>; drop(): Promise<void> }>) {
  let db: { drop(): Promise<void> } | undefined;
  let slack: Receiver | undefined;
  let smtp: SmtpServerHandle | undefined;
  const daemons: TestDaemon[] = [];

  afterEach(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    daemons.length = 0;
    await Promise.all([slack?.close(), smtp?.close()]);
    await db?.drop();
  });

  it('raises skyrelay.ledger.daily once per day across the cluster, as a short table in Slack and mail', async () => {
    const opened = await openStore();
    db = opened;
    slack = await startReceiver();
    slack.respondWith(replies.ok());
    smtp = await startSmtpServer();
    // The days move by moving only the daily job's clock: a day later, today is "yesterday".
    let shift = 0;
    const clock = () => Date.now() + shift;
    const config = {
      store: opened.store,
      skypay: { partners: [{ userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH], encryptKeys: [] }] },
      destinations: {
        'ops-slack': { type: 'slack', url: `${slack.url}/services/T1/B1/daily` },
        'ops-email': { type: 'email', transport: smtp.url, from: 'skyrelay@example.com', to: ['ops@example.com'] },
      },
      rules: [{ name: 'daily', match: { type: 'skyrelay.ledger.daily' }, to: ['ops-slack', 'ops-email'] }],
      ledger: { dailyAt: '00:00', checkIntervalMs: 100 },
      admin: { token: TOKEN },
      ui: { publicUrl: PUBLIC_URL },
      delivery: { pollIntervalMs: 100 },
    };
    daemons.push(await startTestDaemon(config, { clock }), await startTestDaemon(config, { clock }));
    // Yesterday's summary, due since midnight: raised by one of the two, once.
    const yesterday = dayOf(Date.now() - DAY_MS, 480);
    await smtp.waitFor(1);
    await slack.waitFor((rs) => rs.length >= 1);

    // Today: two callbacks, one of them twice.
    const today = dayOf(Date.now(), 480);
    const body = buildCallback({ payType: '1', dealTime: dealTimeFromNow() });
    for (const b of [body, body, buildCallback({ payType: '1', dealTime: dealTimeFromNow() })]) {
      expect((await postCallback(daemons[1]!.callbackUrl, b)).status).to.equal(200);
    }
    shift = DAY_MS;
    // Both daemons check at once, beside their own periodic checks: one summary whoever wins.
    const checks = await Promise.all(daemons.map((d) => d.daemon.ledgerDaily!.check()));
    expect(checks.filter((e) => e !== undefined).length).to.be.at.most(1);
    await smtp.waitFor(2);
    await slack.waitFor((rs) => rs.length >= 2);
    // Checked again once it is raised, by both: nothing more.
    const again = await Promise.all(daemons.map((d) => d.daemon.ledgerDaily!.check()));
    expect(again).to.deep.equal([undefined, undefined]);
    const subjects = smtp.messages.map((m) => m.parsed.subject);
    expect(subjects).to.have.length(2);
    expect(subjects[0]).to.contain(`Ledger ${yesterday}: balanced`);
    expect(subjects[1]).to.contain(`Ledger ${today}: balanced`);
    const mail = smtp.messages[1]!.parsed.text;
    expect(mail).to.match(/Day: \d{4}-\d{2}-\d{2} \(GMT\+8\)/);
    expect(mail).to.contain('Callbacks accepted: 3');
    // The two callbacks' events, and yesterday's summary: an event of skyrelay's own, stored today.
    expect(mail).to.contain('Events: 3');
    expect(mail).to.contain(`Open the ledger: ${PUBLIC_URL}/ui/ledger?day=${today}`);
    // Nothing dead, pending, stuck or unexplained: those rows are left out.
    expect(mail).to.not.match(/^(Unexplained|Dead|Pending|Stuck payouts):/m);
    const texts = slack.requests.map((r) => slackText(r.body));
    expect(texts[1]).to.contain(`Ledger ${today}: balanced`);
    expect(texts[1]).to.match(/Callbacks accepted\s+3/);
    expect(slack.requests.map((r) => r.body).join('\n')).to.contain(`/ui/ledger?day=${today}|Open the ledger`);
    expect(texts.map((t) => /Ledger (\S+):/.exec(t)?.[1])).to.deep.equal([yesterday, today]);

    // /metrics: the last computed day's unexplained rows, the same from either daemon.
    await waitUntil(async () => {
      const scraped = await (await fetch(`${daemons[0]!.baseUrl}/metrics`)).text();
      return /skyrelay_ledger_unexplained\{day="\d{4}-\d{2}-\d{2}"\} 0/.test(scraped);
    }, 'the ledger gauge');
  });

  it('shows a day with a dead and a pending delivery: balanced, with Dead and Pending in Slack and mail', async () => {
    const opened = await openStore();
    db = opened;
    slack = await startReceiver();
    slack.respondWith(replies.ok());
    smtp = await startSmtpServer();
    let shift = 0;
    const refused = await getRefusedUrl();
    const config = {
      store: opened.store,
      skypay: { partners: [{ userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH], encryptKeys: [] }] },
      destinations: {
        'ops-slack': { type: 'slack', url: `${slack.url}/services/T1/B1/daily` },
        'ops-email': { type: 'email', transport: smtp.url, from: 'skyrelay@example.com', to: ['ops@example.com'] },
        // Nothing listens there, and no breaker holds its deliveries back: they die.
        dying: { type: 'webhook', url: `${refused}/in`, secret: SECRET, breaker: false },
        // Paused by hand below: its deliveries wait, pending.
        held: { type: 'webhook', url: `${refused}/held`, secret: SECRET },
      },
      rules: [
        { name: 'daily', match: { type: 'skyrelay.ledger.daily' }, to: ['ops-slack', 'ops-email'] },
        { name: 'feed', match: { source: 'skypay' }, to: ['dying', 'held'] },
      ],
      ledger: { dailyAt: '00:00', checkIntervalMs: 100 },
      admin: { token: TOKEN },
      ui: { publicUrl: PUBLIC_URL },
      delivery: { pollIntervalMs: 50, maxAttempts: 1, initialBackoffMs: 50, maxBackoffMs: 100 },
    };
    const t = await startTestDaemon(config, { clock: () => Date.now() + shift });
    daemons.push(t);
    // Yesterday's summary first (due since midnight), delivered to both.
    await smtp.waitFor(1);
    await slack.waitFor((rs) => rs.length >= 1);
    await waitUntil(
      async () =>
        (await deliveriesIn(t, 'ops-slack', 'delivered')) + (await deliveriesIn(t, 'ops-email', 'delivered')) === 2,
      "yesterday's summary delivered",
    );

    const today = dayOf(Date.now(), 480);
    await admin(t, 'POST', '/admin/destinations/held/pause');
    const res = await postCallback(t.callbackUrl, buildCallback({ payType: '1', dealTime: dealTimeFromNow() }));
    expect(res.json?.['responseCode']).to.equal('1000');
    await waitUntil(async () => (await deliveriesIn(t, 'dying', 'dead')) === 1, 'the delivery to dying dead');
    expect(await deliveriesIn(t, 'held', 'pending')).to.equal(1);

    shift = DAY_MS;
    await smtp.waitFor(2);
    await slack.waitFor((rs) => rs.length >= 2);
    const subject = smtp.messages[1]!.parsed.subject;
    expect(subject).to.contain(`Ledger ${today}: balanced`);
    const mail = smtp.messages[1]!.parsed.text;
    expect(mail).to.match(/^Balanced: yes$/m);
    expect(mail).to.match(/^Dead: 1$/m);
    expect(mail).to.match(/^Pending: 1$/m);
    // Yesterday's summary to ops-slack and ops-email, and today's callback to dying and held.
    expect(mail).to.match(/^Routes: 4$/m);
    expect(mail).to.match(/^Delivered: 2$/m);
    expect(mail).to.not.match(/^(Unexplained|Stuck payouts|Contradicted by SkyPay):/m);
    const text = slackText(slack.requests[1]!.body);
    expect(text).to.contain(`Ledger ${today}: balanced`);
    expect(text).to.match(/Balanced\s+yes/);
    expect(text).to.match(/Dead\s+1/);
    expect(text).to.match(/Pending\s+1/);
  });
}

describePostgres('the daily ledger summary: two daemons on one PostgreSQL database', function () {
  this.timeout(60_000);
  proveDaily(async () => {
    const database: TestDatabase = await createTestDatabase();
    return { store: { url: database.url }, drop: () => database.drop() };
  });
});

describe('the daily ledger summary: two daemons on one SQLite file', function () {
  this.timeout(60_000);
  proveDaily(async () => {
    const dir = makeTempDir('skyrelay-daily');
    return {
      store: { path: path.join(dir, 'skyrelay.db') },
      drop: () => fs.promises.rm(dir, { recursive: true, force: true }),
    };
  });
});
