import { expect } from 'chai';
import { fingerprint } from '../../../src/http/bearer';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';
import { replies, startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';
import { ALL } from '../../support/store';

/**
 * A webhook receiver answering 410 Gone (Standard Webhooks: the endpoint is gone, stop sending): the destination is
 * paused rather than each delivery killed, destination.unhealthy goes to another destination, deliveries keep
 * coming in and wait pending, and nothing (no probe either) is sent until an operator resumes it; then the backlog
 * goes out and destination.recovered is raised.
 */
const TOKEN = 'breaker-gone-admin-token-0123456789';
const SECRET = `whsec_${Buffer.from('breaker-gone-signing-secret-0001').toString('base64')}`;
const PROBE_MS = 150;

function configFor(
  hook: Receiver,
  witness: Receiver,
  ops: Receiver,
  store: Record<string, unknown> = {},
  pollIntervalMs = 100,
) {
  return {
    ...store,
    admin: { token: TOKEN },
    destinations: {
      // A breaker with short probes: were a 410 an ordinary failure, probes would reach the receiver within the test.
      hook: {
        type: 'webhook',
        url: `${hook.url}/in`,
        secret: SECRET,
        breaker: { failures: 3, probeIntervalMs: PROBE_MS },
      },
      witness: { type: 'webhook', url: `${witness.url}/in`, secret: SECRET, breaker: false },
      ops: { type: 'webhook', url: `${ops.url}/ops`, secret: SECRET, breaker: false },
    },
    rules: [
      { name: 'feed', to: ['hook', 'witness'] },
      // hook is on the health rule too: the alert saying it is down must not be queued for it.
      { name: 'health', match: { source: 'skyrelay' }, to: ['ops', 'hook'] },
    ],
    // Without the pause a 410 kills a delivery at once, and a retried one would die at its second attempt.
    delivery: { pollIntervalMs, initialBackoffMs: 100, maxBackoffMs: 200, maxAttempts: 2 },
  };
}

interface Sent {
  type: string;
  controlNumber: string | undefined;
  data: Record<string, unknown>;
}

function sentOf(r: RecordedRequest): Sent {
  const body = r.json as { type: string; data: { controlNumber?: string; data?: Record<string, unknown> } };
  return { type: body.type, controlNumber: body.data.controlNumber, data: body.data.data ?? {} };
}

async function admin(t: TestDaemon, path: string, method = 'GET'): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${t.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: await res.json() };
}

async function hookStatus(t: TestDaemon): Promise<Record<string, unknown> | undefined> {
  const { body } = await admin(t, '/admin/destinations');
  return (body as { items: Record<string, unknown>[] }).items.find((d) => d['name'] === 'hook');
}

async function postPayout(t: TestDaemon): Promise<string> {
  const body = buildCallback({ payType: '2' });
  const res = await postCallback(t.callbackUrl, body);
  expect(res.json?.['responseCode']).to.equal('1000');
  return String(body['controlNumber']);
}

async function runGone(t: TestDaemon, hook: Receiver, witness: Receiver, ops: Receiver): Promise<void> {
  hook.respondWith(replies.status(410, 'endpoint deleted'));
  const sent = [await postPayout(t)];
  const [unhealthy] = (await ops.waitFor(1, 10_000)).map(sentOf);
  const pausedAt = Date.now();
  expect(unhealthy?.type).to.equal('skyrelay.destination.unhealthy');
  expect(unhealthy?.data).to.include({ destination: 'hook', state: 'paused' });
  expect(String(unhealthy?.data['reason'])).to.match(/410 Gone.*resumed by hand/);
  expect(String(unhealthy?.data['lastErrors'])).to.match(/HTTP 410/);
  expect(String(unhealthy?.data['action'])).to.contain('skyrelay destination resume hook');
  expect(await hookStatus(t)).to.include({ state: 'paused', reason: 'gone', pausedBy: null });

  // Callbacks keep coming: each is taken and sent to the witness, while hook gets nothing, not even a probe, for
  // several probe intervals (and the receiver answering again changes nothing: only a person resumes it).
  hook.respondWith(replies.ok());
  while (Date.now() - pausedAt < 5 * PROBE_MS || sent.length < 4) {
    sent.push(await postPayout(t));
    await witness.waitFor(sent.length, 10_000);
  }
  expect(hook.requests, 'sends to a destination paused by a 410').to.have.length(1);
  const waiting = await t.daemon.store.listDeliveries({ destination: 'hook', limit: ALL });
  expect(waiting.map((d) => d.state)).to.deep.equal(sent.map(() => 'pending'));
  expect(waiting.find((d) => d.attempts === 1)?.lastStatus, 'the one attempt made').to.equal(410);
  expect(await t.daemon.store.listDeliveries({ state: 'dead', limit: ALL })).to.deep.equal([]);
  expect(await hookStatus(t)).to.include({ state: 'paused', reason: 'gone', backlog: sent.length });
  expect(ops.requests, 'one unhealthy alert for the outage').to.have.length(1);

  const resumed = await admin(t, '/admin/destinations/hook/resume', 'POST');
  expect(resumed).to.deep.equal({
    status: 200,
    body: { destination: 'hook', state: 'closed', changed: true, backlog: sent.length, alert: 'recovered' },
  });
  const received = () => new Set(hook.requests.map((r) => sentOf(r).controlNumber));
  await hook.waitFor(() => sent.every((cn) => received().has(cn)), 10_000);
  const [, recovered] = (await ops.waitFor(2, 10_000)).map(sentOf);
  expect(recovered?.type).to.equal('skyrelay.destination.recovered');
  expect(recovered?.data).to.include({
    destination: 'hook',
    state: 'closed',
    waited: sent.length,
    by: `admin token ${fingerprint(TOKEN)}`,
  });
  // The recovered alert reaches hook too, once it takes sends again; the unhealthy one was never queued for it.
  await hook.waitFor((rs) => rs.some((r) => sentOf(r).type === 'skyrelay.destination.recovered'), 10_000);
  expect(hook.requests.map((r) => sentOf(r).type)).not.to.include('skyrelay.destination.unhealthy');
  // Pending or in flight: a receipt comes before its attempt is recorded.
  await waitUntil(async () => (await hookStatus(t))?.['backlog'] === 0, 'hook to have no backlog');
  expect(await hookStatus(t)).to.include({ state: 'closed', dead: 0 });
  expect(await t.daemon.store.listDeliveries({ state: 'dead', limit: ALL })).to.deep.equal([]);
}

/**
 * The process that saw the 410 holds the destination's sends back from memory too. Resumed by hand (here, through
 * that very process's admin API), its backlog goes out at once, not at the worker's next poll of the breakers.
 */
async function runResumeAtOnce(t: TestDaemon, hook: Receiver, witness: Receiver, ops: Receiver): Promise<void> {
  hook.respondWith(replies.status(410, 'endpoint deleted'));
  const sent = [await postPayout(t)];
  await ops.waitFor(1, 10_000);
  hook.respondWith(replies.ok());
  sent.push(await postPayout(t));
  await witness.waitFor(2, 10_000);
  expect(hook.requests).to.have.length(1);
  const resumedAt = Date.now();
  expect((await admin(t, '/admin/destinations/hook/resume', 'POST')).status).to.equal(200);
  const received = () => new Set(hook.requests.map((r) => sentOf(r).controlNumber));
  // Well inside the 30 s poll.
  await hook.waitFor(() => sent.every((cn) => received().has(cn)), 10_000);
  const lastMs = Math.max(...hook.requests.map((r) => r.receivedAt)) - resumedAt;
  expect(lastMs, 'the backlog went out this long after the resume').to.be.below(5_000);
}

describe('breaker: a webhook receiver answering 410 Gone (SQLite)', function () {
  this.timeout(30_000);
  let t: TestDaemon | undefined;
  let receivers: Receiver[] = [];

  afterEach(async () => {
    await t?.stop();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('pauses the destination, alerts elsewhere, keeps every delivery pending until resumed, then delivers them', async () => {
    receivers = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    const [hook, witness, ops] = receivers as [Receiver, Receiver, Receiver];
    t = await startTestDaemon(configFor(hook, witness, ops));
    await runGone(t, hook, witness, ops);
  });

  it('resumed by hand, sends its backlog at once, not at the next poll', async () => {
    receivers = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    const [hook, witness, ops] = receivers as [Receiver, Receiver, Receiver];
    t = await startTestDaemon(configFor(hook, witness, ops, {}, 30_000));
    await runResumeAtOnce(t, hook, witness, ops);
  });
});

describePostgres('breaker: a webhook receiver answering 410 Gone (PostgreSQL)', function () {
  this.timeout(30_000);
  let db: TestDatabase | undefined;
  let t: TestDaemon | undefined;
  let receivers: Receiver[] = [];

  afterEach(async () => {
    await t?.stop();
    await Promise.all(receivers.map((r) => r.close()));
    await db?.drop();
  });

  it('pauses the destination, alerts elsewhere, keeps every delivery pending until resumed, then delivers them', async () => {
    db = await createTestDatabase();
    receivers = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    const [hook, witness, ops] = receivers as [Receiver, Receiver, Receiver];
    t = await startTestDaemon(configFor(hook, witness, ops, { store: { url: db.url } }));
    await runGone(t, hook, witness, ops);
  });

  it('resumed by hand, sends its backlog at once, not at the next poll', async () => {
    db = await createTestDatabase();
    receivers = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    const [hook, witness, ops] = receivers as [Receiver, Receiver, Receiver];
    t = await startTestDaemon(configFor(hook, witness, ops, { store: { url: db.url } }, 30_000));
    await runResumeAtOnce(t, hook, witness, ops);
  });
});
