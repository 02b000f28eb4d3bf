import { expect } from 'chai';
import path from 'node:path';
import { makeTempDir, startTestDaemon, waitUntil } from '../../support/daemon';
import { replies, startReceiver, type Receiver } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';
import { spawnDaemon } from '../../support/spawn';
import { ALL, withStore } from '../../support/store';
import type { DeliveryView } from '../../../src/store/types';

const SECRET = `whsec_${Buffer.from('hand-off-test-secret-0123456789').toString('base64')}`;
const BURST = 12;
const MAX_IN_FLIGHT = 3;

function config(dbPath: string, receiver: Receiver, delivery: Record<string, unknown> = {}) {
  return {
    server: { host: '127.0.0.1', port: 0 },
    store: { path: dbPath },
    destinations: { hook: { type: 'webhook', url: receiver.url, secret: SECRET, maxInFlight: MAX_IN_FLIGHT } },
    rules: [{ name: 'all', to: ['hook'] }],
    delivery: { timeoutMs: 5_000, pollIntervalMs: 50, initialBackoffMs: 50, maxBackoffMs: 200, ...delivery },
  };
}

const deliveries = (dbPath: string): Promise<DeliveryView[]> =>
  withStore(dbPath, (store) => store.listDeliveries({ limit: ALL }));

async function countIn(dbPath: string, state: DeliveryView['state']): Promise<number> {
  return (await deliveries(dbPath)).filter((d) => d.state === state).length;
}

/** A burst of callbacks at once, all acknowledged. */
async function postBurst(callbackUrl: string): Promise<string[]> {
  const bodies = Array.from({ length: BURST }, () => buildCallback());
  const acks = await Promise.all(bodies.map((body) => postCallback(callbackUrl, body)));
  expect(acks.map((a) => a.json?.['responseCode'])).to.deep.equal(bodies.map(() => '1000'));
  return bodies.map((b) => String(b['controlNumber']));
}

/** Each control number reached the receiver under one webhook-id only: its delivery's id. */
async function expectOneWebhookIdEach(dbPath: string, receiver: Receiver, controlNumbers: string[]): Promise<void> {
  const idOf = new Map((await deliveries(dbPath)).map((d) => [d.controlNumber, d.id]));
  const seen = new Map<string, Set<string>>();
  for (const r of receiver.requests) {
    const control = (r.json as { data: { controlNumber: string } }).data.controlNumber;
    seen.set(control, (seen.get(control) ?? new Set()).add(String(r.headers['webhook-id'])));
  }
  expect([...seen.keys()].sort()).to.deep.equal([...controlNumbers].sort());
  for (const [control, ids] of seen) expect([...ids], control).to.deep.equal([idOf.get(control)]);
}

describe('hand-off: deliveries leased at ingest past maxInFlight, sent from memory', function () {
  this.timeout(60_000);
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver();
    receiver.respondWith(replies.held());
  });
  afterEach(() => receiver.close());

  it('leases a burst larger than maxInFlight at ingest and sends it with at most maxInFlight in flight', async () => {
    const dbPath = path.join(makeTempDir(), 'hand-off.db');
    const t = await startTestDaemon(config(dbPath, receiver), { dbPath });
    try {
      const sent = await postBurst(t.callbackUrl);
      await receiver.waitFor(MAX_IN_FLIGHT);
      // All twelve were written leased to the worker: none waits for a claim.
      expect(await countIn(dbPath, 'inflight')).to.equal(BURST);
      expect(await countIn(dbPath, 'pending')).to.equal(0);
      for (let answered = 0; answered < BURST; answered++) {
        await receiver.waitFor(Math.min(BURST, answered + MAX_IN_FLIGHT));
        receiver.release(1);
      }
      await waitUntil(async () => (await countIn(dbPath, 'delivered')) === BURST, 'all delivered');
      expect(receiver.open.most, 'sends open at once').to.equal(MAX_IN_FLIGHT);
      expect(receiver.requests).to.have.length(BURST);
      await expectOneWebhookIdEach(dbPath, receiver, sent);
    } finally {
      receiver.release();
      await t.stop();
    }
  });

  it('gives back at a stop what waited in memory, and the next daemon sends it under the same webhook-ids', async () => {
    const dbPath = path.join(makeTempDir(), 'hand-off-stop.db');
    const first = await startTestDaemon(config(dbPath, receiver), { dbPath });
    const sent = await postBurst(first.callbackUrl);
    await receiver.waitFor(MAX_IN_FLIGHT);
    const stopping = first.stop();
    // At once, while the three sends still run: the nine waiting in memory are pending again, no attempt counted.
    await waitUntil(async () => (await countIn(dbPath, 'pending')) === BURST - MAX_IN_FLIGHT, 'the release');
    const pending = (await deliveries(dbPath)).filter((d) => d.state === 'pending');
    expect(pending.map((d) => d.attempts)).to.deep.equal(pending.map(() => 0));
    receiver.release();
    await stopping;
    expect(await countIn(dbPath, 'delivered')).to.equal(MAX_IN_FLIGHT);

    receiver.respondWith(replies.ok());
    const second = await startTestDaemon(config(dbPath, receiver), { dbPath });
    try {
      await waitUntil(async () => (await countIn(dbPath, 'delivered')) === BURST, 'all delivered');
      expect(receiver.requests).to.have.length(BURST);
      await expectOneWebhookIdEach(dbPath, receiver, sent);
    } finally {
      await second.stop();
    }
  });

  it('leaves its leases at a SIGKILL to another process, which sends every delivery under the same webhook-id', async () => {
    const dbPath = path.join(makeTempDir(), 'hand-off-kill.db');
    // A short timeoutMs makes a short lease (2 x timeoutMs + 5 s): the takeover waits for it to end.
    const settings = config(dbPath, receiver, { timeoutMs: 500 });
    const first = await spawnDaemon(settings);
    const sent = await postBurst(first.callbackUrl);
    await receiver.waitFor(MAX_IN_FLIGHT);
    expect(await countIn(dbPath, 'inflight')).to.equal(BURST);
    first.child.kill('SIGKILL');
    expect(await first.exited).to.equal('SIGKILL');

    receiver.respondWith(replies.ok());
    const second = await spawnDaemon(settings);
    try {
      await waitUntil(async () => (await countIn(dbPath, 'delivered')) === BURST, 'all delivered', 45_000);
      // The three the first process had sent went again (at-least-once), each under its first webhook-id.
      expect(receiver.requests.length).to.be.at.least(BURST + MAX_IN_FLIGHT);
      await expectOneWebhookIdEach(dbPath, receiver, sent);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
