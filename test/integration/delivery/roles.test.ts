import { expect } from 'chai';
import path from 'node:path';
import { makeTempDir, startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { startReceiver, type Receiver } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';
import { ALL, withStore } from '../../support/store';

const ADMIN_TOKEN = 'roles-test-admin-token-0123456789';
const POLL_MS = 50;

describe('roles: ingest and delivery in separate daemons on one SQLite file', function () {
  this.timeout(30_000);
  let receiver: Receiver;
  let ingest: TestDaemon | undefined;
  let delivery: TestDaemon | undefined;
  let dbPath: string;

  const config = (roles: string) => ({
    roles,
    admin: { token: ADMIN_TOKEN },
    destinations: {
      ledger: {
        type: 'webhook',
        url: `${receiver.url}/hooks`,
        secret: `whsec_${Buffer.from('roles-test-secret-roles-test-secret').toString('base64')}`,
      },
    },
    rules: [{ name: 'ledger-feed', to: ['ledger'] }],
    delivery: { pollIntervalMs: POLL_MS },
  });

  before(async () => {
    receiver = await startReceiver();
    dbPath = path.join(makeTempDir(), 'shared.db');
  });

  after(async () => {
    await ingest?.stop();
    await delivery?.stop();
    await receiver.close();
  });

  it('an ingest-only daemon acknowledges callbacks and writes their deliveries, but sends none', async () => {
    ingest = await startTestDaemon(config('ingest'), { dbPath });
    const bodies = [buildCallback(), buildCallback(), buildCallback({ payType: '2' })];
    for (const body of bodies) {
      const reply = await postCallback(ingest.callbackUrl, body);
      expect(reply.json?.['responseCode']).to.equal('1000');
    }
    // Proving an absence: ten poll intervals in which a running worker would have claimed and sent all three
    // (with both roles the first send starts within a few ms of the ack).
    await new Promise((resolve) => setTimeout(resolve, POLL_MS * 10));
    expect(receiver.requests).to.have.length(0);
    const deliveries = await withStore(dbPath, (store) => store.listDeliveries({ limit: ALL }));
    expect(deliveries.map((d) => [d.state, d.attempts])).to.deep.equal([
      ['pending', 0],
      ['pending', 0],
      ['pending', 0],
    ]);
  });

  it('a delivery-only daemon on the same file sends them to the real receiver, once each', async () => {
    delivery = await startTestDaemon(config('delivery'), { dbPath });
    await waitUntil(() => receiver.requests.length >= 3, 'the three deliveries to reach the receiver');
    await waitUntil(
      async () =>
        (await withStore(dbPath, (store) => store.listDeliveries({ state: 'delivered', limit: ALL }))).length === 3,
      'the three deliveries to be marked delivered',
    );
    const ids = receiver.requests.map((r) => String(r.headers['webhook-id']));
    expect(new Set(ids).size).to.equal(3);
  });

  it('a delivery-only daemon answers the callback path 404 and stores nothing', async () => {
    const d = delivery as TestDaemon;
    const before = await withStore(dbPath, (store) => store.listEvents({ limit: ALL }));
    const reply = await postCallback(d.callbackUrl, buildCallback());
    expect(reply.status).to.equal(404);
    expect(reply.json?.['responseCode']).to.equal(undefined);
    const after = await withStore(dbPath, (store) => store.listEvents({ limit: ALL }));
    expect(after).to.have.length(before.length);
  });

  it('keeps /healthz, /readyz, /metrics and /admin on both', async () => {
    for (const d of [ingest as TestDaemon, delivery as TestDaemon]) {
      for (const p of ['/healthz', '/readyz', '/metrics']) {
        const res = await fetch(`${d.baseUrl}${p}`);
        expect(res.status, `${p} on roles=${d.config.roles.join(',')}`).to.equal(200);
        await res.arrayBuffer();
      }
      const admin = await fetch(`${d.baseUrl}/admin/events`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(admin.status).to.equal(200);
      await admin.arrayBuffer();
    }
  });
});
