import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { getRefusedUrl, replies, startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import { startSmtpServer, type SmtpServerHandle } from '../../support/smtp';
import { SAMPLE_AUTH, buildCallback, postCallback } from '../../support/skypay';
import { ALL, withStore } from '../../support/store';
import type { AttemptView, DeliveryView } from '../../../src/store/types';
import type { DeliveryState } from '../../../src/delivery/types';

const SECRET = `whsec_${Buffer.from('a'.repeat(32)).toString('base64')}`;
const SMTP_PASS = 'smtp-pa55-word';

type DeliveryRow = DeliveryView & { attemptLog: AttemptView[] };

/** A payout's deliveries, as `skyrelay show` sees them, by destination. */
async function deliveriesOf(t: TestDaemon, controlNumber: unknown): Promise<DeliveryRow[]> {
  const events = await withStore(t.dbPath, (store) => store.findEventsByControlNumber(String(controlNumber)));
  return events
    .flatMap((e) => e.deliveries)
    .sort((a, b) => (a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : 0));
}

/** One delivery's attempts, oldest first. */
function attemptsOf(t: TestDaemon, deliveryId: string): Promise<AttemptView[]> {
  return withStore(t.dbPath, async (store) => {
    const delivery = (await store.listDeliveries({ limit: ALL })).find((d) => d.id === deliveryId);
    const detail = delivery && (await store.getEvent(delivery.eventId));
    return detail?.deliveries.find((d) => d.id === deliveryId)?.attemptLog ?? [];
  });
}

const countDeliveries = (t: TestDaemon, filter: { state: DeliveryState; destination?: string }) =>
  withStore(t.dbPath, async (store) => (await store.listDeliveries({ ...filter, limit: ALL })).length);

async function waitForState(
  t: TestDaemon,
  controlNumber: unknown,
  destination: string,
  state: string,
): Promise<DeliveryRow> {
  let row: DeliveryRow | undefined;
  await waitUntil(
    async () => {
      row = (await deliveriesOf(t, controlNumber)).find((d) => d.destination === destination);
      return row?.state === state;
    },
    `${destination} delivery of ${String(controlNumber)} to be ${state} (is ${row?.state})`,
    15_000,
  );
  return row as DeliveryRow;
}

const byControlNumber = (cn: unknown) => (r: RecordedRequest) => r.body.includes(String(cn));

describe('outbox delivery (real receivers)', function () {
  this.timeout(30_000);
  let slack: Receiver;
  let ledger: Receiver;
  let smtp: SmtpServerHandle;
  let t: TestDaemon;

  before(async () => {
    [slack, ledger, smtp] = await Promise.all([
      startReceiver(),
      startReceiver(),
      startSmtpServer({ user: 'relay', pass: SMTP_PASS }),
    ]);
    t = await startTestDaemon({
      destinations: {
        'ops-slack': { type: 'slack', url: `${slack.url}/services/T000/B000/XXXX` },
        'ops-email': {
          type: 'email',
          transport: smtp.url,
          from: 'skyrelay@example.com',
          to: ['payments-ops@example.com'],
        },
        ledger: { type: 'webhook', url: `${ledger.url}/hooks/skypay`, secret: SECRET, headers: { 'x-team': 'ledger' } },
      },
      rules: [
        { name: 'payout-problems', match: { payType: ['failure', 'amendedFailure'] }, to: ['ops-slack', 'ops-email'] },
        { name: 'ledger-feed', to: ['ledger'] },
        { name: 'ledger-failures', match: { status: 'failure' }, to: ['ledger'] },
      ],
      delivery: { maxAttempts: 4, initialBackoffMs: 50, maxBackoffMs: 3000, timeoutMs: 400, pollIntervalMs: 100 },
    });
  });
  after(async () => {
    await t.stop();
    await Promise.all([slack.close(), ledger.close(), smtp.close()]);
  });
  beforeEach(() => {
    slack.respondWith(replies.ok());
    ledger.respondWith(replies.ok());
    smtp.setMode({ kind: 'accept' });
  });

  it('sends a failure to Slack, email and the ledger within seconds, signed, once per destination', async () => {
    const body = buildCallback({
      payType: '4',
      failDescription: 'Beneficiary account closed',
      referenceNumber: 'MLA0099',
    });
    expect((await postCallback(t.callbackUrl, body)).json?.['responseCode']).to.equal('1000');

    const [slackMsg] = (await slack.waitFor((rs) => rs.some(byControlNumber(body['controlNumber'])))).filter(
      byControlNumber(body['controlNumber']),
    );
    const text = String((slackMsg?.json as { text?: unknown }).text);
    expect(text)
      .to.contain(String(body['controlNumber']))
      .and.to.contain('Beneficiary account closed')
      .and.to.match(/fail/i);
    expect(JSON.stringify(slackMsg?.json)).to.contain('"type":"header"');

    const mails = await smtp.waitFor((ms) => ms.some((m) => m.raw.includes(String(body['controlNumber']))));
    const mail = mails.find((m) => m.raw.includes(String(body['controlNumber'])));
    expect(mail?.parsed.subject).to.equal(`[skyrelay] Payout failure ${String(body['controlNumber'])}`);
    expect(mail?.envelope.to).to.deep.equal(['payments-ops@example.com']);

    const hooks = (await ledger.waitFor((rs) => rs.some(byControlNumber(body['controlNumber'])))).filter(
      byControlNumber(body['controlNumber']),
    );
    expect(hooks).to.have.length(1);
    const hook = hooks[0] as RecordedRequest;
    const verified = new Webhook(SECRET).verify(hook.body, hook.headers as Record<string, string>) as Record<
      string,
      unknown
    >;
    expect(verified['type']).to.equal('skypay.payout.failure');
    expect(verified['data']).to.include({
      controlNumber: body['controlNumber'],
      status: 'failure',
      failDescription: 'Beneficiary account closed',
    });
    expect(hook.headers['x-team']).to.equal('ledger');

    const rows = await deliveriesOf(t, body['controlNumber']);
    await waitUntil(
      async () => (await deliveriesOf(t, body['controlNumber'])).every((d) => d.state === 'delivered'),
      'all delivered',
    );
    expect(rows.map((r) => r.destination)).to.deep.equal(['ledger', 'ops-email', 'ops-slack']);
    // Two rules chose the ledger: one delivery, both names recorded.
    expect(rows[0]?.rules).to.deep.equal(['ledger-feed', 'ledger-failures']);
    expect(hook.headers['webhook-id']).to.equal(rows[0]?.id);
    for (const secret of [SECRET, SMTP_PASS, SAMPLE_AUTH, 'B000/XXXX']) {
      expect(hook.body + slackMsg?.body + mail?.raw).not.to.contain(secret);
    }
  });

  it('sends a paid payout to the ledger only, and a duplicate callback creates no new deliveries', async () => {
    const body = buildCallback({ payType: '2' });
    await postCallback(t.callbackUrl, body);
    await postCallback(t.callbackUrl, body);
    await waitForState(t, body['controlNumber'], 'ledger', 'delivered');
    expect((await deliveriesOf(t, body['controlNumber'])).map((d) => d.destination)).to.deep.equal(['ledger']);
    expect(ledger.requests.filter(byControlNumber(body['controlNumber']))).to.have.length(1);
  });

  it('honours 429 Retry-After, then delivers with the same webhook-id', async () => {
    ledger.respondOnce(replies.rateLimited('1'));
    const body = buildCallback({ payType: '1' });
    await postCallback(t.callbackUrl, body);
    const row = await waitForState(t, body['controlNumber'], 'ledger', 'delivered');
    const attempts = await attemptsOf(t, row.id);
    expect(attempts.map((a) => [a.outcome, a.status])).to.deep.equal([
      ['retry', 429],
      ['delivered', 200],
    ]);
    expect(Date.parse(attempts[1]?.startedAt ?? '') - Date.parse(attempts[0]?.startedAt ?? '')).to.be.at.least(1000);
    const ids = ledger.requests.filter(byControlNumber(body['controlNumber'])).map((r) => r.headers['webhook-id']);
    expect(ids).to.deep.equal([row.id, row.id]);
  });

  it('retries a 503 and a hung receiver (timeoutMs), then delivers', async () => {
    ledger.respondOnce(replies.unavailable(), replies.hang());
    const body = buildCallback({ payType: '3' });
    await postCallback(t.callbackUrl, body);
    const row = await waitForState(t, body['controlNumber'], 'ledger', 'delivered');
    const attempts = await attemptsOf(t, row.id);
    expect(attempts.map((a) => a.outcome)).to.deep.equal(['retry', 'retry', 'delivered']);
    expect(attempts[0]?.status).to.equal(503);
    expect(attempts[0]?.response).to.contain('unavailable');
    expect(attempts[1]?.error).to.match(/no answer within 400 ms/);
  });

  it("sends a 400 (and Slack's invalid_token) to dead at once", async () => {
    ledger.respondWith(replies.badRequest('no such hook'));
    slack.respondWith(replies.badRequest('invalid_token'));
    const body = buildCallback({ payType: '6', failDescription: 'Name mismatch' });
    await postCallback(t.callbackUrl, body);
    const hook = await waitForState(t, body['controlNumber'], 'ledger', 'dead');
    const slackRow = await waitForState(t, body['controlNumber'], 'ops-slack', 'dead');
    expect(hook.attempts).to.equal(1);
    expect(slackRow.attempts).to.equal(1);
    expect((await attemptsOf(t, hook.id))[0]).to.include({ outcome: 'dead', status: 400 });
    // Email was unaffected by the other destinations' failures.
    await waitForState(t, body['controlNumber'], 'ops-email', 'delivered');
  });

  it('sends an SMTP 550 to dead at once and retries a 451', async () => {
    smtp.setMode({ kind: 'reject', code: 550, message: 'mailbox unavailable' });
    const dead = buildCallback({ payType: '4' });
    await postCallback(t.callbackUrl, dead);
    expect((await waitForState(t, dead['controlNumber'], 'ops-email', 'dead')).attempts).to.equal(1);

    smtp.setMode({ kind: 'reject', code: 451, message: 'try later' });
    const later = buildCallback({ payType: '4' });
    await postCallback(t.callbackUrl, later);
    await waitUntil(
      async () =>
        ((await deliveriesOf(t, later['controlNumber'])).find((d) => d.destination === 'ops-email')?.attempts ?? 0) >=
        2,
      'a second email attempt after 451',
    );
    smtp.setMode({ kind: 'accept' });
    await waitForState(t, later['controlNumber'], 'ops-email', 'delivered');
  });
});

describe('outbox delivery limits', function () {
  this.timeout(30_000);

  it('gives up after maxAttempts against a receiver that refuses connections', async () => {
    const t = await startTestDaemon({
      destinations: { gone: { type: 'webhook', url: await getRefusedUrl(), secret: SECRET } },
      rules: [{ name: 'all', to: ['gone'] }],
      delivery: { maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 50, timeoutMs: 300, pollIntervalMs: 50 },
    });
    try {
      const body = buildCallback();
      await postCallback(t.callbackUrl, body);
      const row = await waitForState(t, body['controlNumber'], 'gone', 'dead');
      const attempts = await attemptsOf(t, row.id);
      expect(attempts.map((a) => a.outcome)).to.deep.equal(['retry', 'retry', 'dead']);
      expect(attempts[2]?.error).to.match(/gave up after 3 attempts/);
      expect(attempts[0]?.status).to.equal(null);
    } finally {
      await t.stop();
    }
  });

  it('keeps at most maxInFlight sends open per destination, and a slow one does not starve another', async () => {
    const slow = await startReceiver();
    const fast = await startReceiver();
    // The slow receiver holds every request open until it is told to answer.
    slow.respondWith(replies.hang());
    const t = await startTestDaemon({
      destinations: {
        slow: { type: 'webhook', url: slow.url, secret: SECRET, maxInFlight: 2 },
        fast: { type: 'webhook', url: fast.url, secret: SECRET },
      },
      rules: [{ name: 'all', to: ['slow', 'fast'] }],
      delivery: { maxAttempts: 5, initialBackoffMs: 20, maxBackoffMs: 50, timeoutMs: 1500, pollIntervalMs: 50 },
    });
    try {
      for (let i = 0; i < 6; i++) await postCallback(t.callbackUrl, buildCallback());
      await slow.waitFor(2);
      await fast.waitFor(6);
      // Every event reached the fast receiver while the slow one was never sent more than two. All six to 'slow' are
      // leased to the worker (two sending, four waiting in its memory for a slot): no other process may send them.
      expect(slow.requests).to.have.length(2);
      expect(await countDeliveries(t, { state: 'inflight', destination: 'slow' })).to.equal(6);
      expect(await countDeliveries(t, { state: 'pending', destination: 'slow' })).to.equal(0);
      slow.respondWith(replies.ok());
      await waitUntil(
        async () => (await countDeliveries(t, { state: 'delivered' })) === 12,
        'all twelve deliveries done',
      );
    } finally {
      await t.stop();
      await Promise.all([slow.close(), fast.close()]);
    }
  });
});
