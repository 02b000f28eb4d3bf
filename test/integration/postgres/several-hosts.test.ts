/**
 * Issue 9 §4: three daemons (separate processes, own ports) on one PostgreSQL database take callbacks spread
 * across them and deliver to one webhook consumer. One is SIGKILLed under load, another stopped with SIGTERM.
 * Every acknowledged callback is stored once and delivered under its one webhook-id, and a delivery reaches
 * the consumer twice only when the killed process had sent it without recording so, and its lease had expired.
 */
import { expect } from 'chai';
import { note } from '../../support/notes';
import { waitUntil } from '../../support/daemon';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';
import { replies, startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import { spawnDaemon, type SpawnedDaemon } from '../../support/spawn';
import { ALL, withStore } from '../../support/store';
import { startTraffic, type Traffic } from '../../support/traffic';

/** Small, so the killed process's leases run out within the test. */
const TIMEOUT_MS = 500;
/** How src/delivery/worker.ts derives a lease from delivery.timeoutMs: twice the send timeout plus 5 s. */
const LEASE_MS = TIMEOUT_MS * 2 + 5_000;
/** Between claiming a delivery and its request reaching the consumer, on a loaded machine. */
const CLAIM_TO_SEND_MS = 1_000;
/** A request the killed process wrote just before dying may be read by the consumer a moment after its exit. */
const LAST_BYTES_MS = 200;
/** How long the consumer takes to answer: well within TIMEOUT_MS. */
const CONSUMER_MS = 100;

describePostgres('several hosts on one PostgreSQL: one SIGKILLed and one SIGTERMed under load', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let consumer: Receiver;
  let procs: SpawnedDaemon[] = [];
  let traffic: Traffic | undefined;

  before(async () => {
    db = await createTestDatabase();
    consumer = await startReceiver();
    // Slow enough that each process always has sends running, so the SIGKILL leaves leased deliveries behind.
    consumer.respondWith(replies.delayed(CONSUMER_MS));
    const config = {
      server: { host: '127.0.0.1', port: 0 },
      store: { url: db.url, poolSize: 4 },
      destinations: {
        ledger: {
          type: 'webhook',
          url: `${consumer.url}/hooks`,
          secret: `whsec_${Buffer.from('three-hosts-one-database-secret').toString('base64')}`,
          maxInFlight: 8,
        },
      },
      rules: [{ name: 'ledger-feed', to: ['ledger'] }],
      delivery: {
        maxInFlight: 8,
        timeoutMs: TIMEOUT_MS,
        pollIntervalMs: 200,
        initialBackoffMs: 200,
        maxBackoffMs: 1_000,
      },
    };
    procs = await Promise.all([spawnDaemon(config), spawnDaemon(config), spawnDaemon(config)]);
  });

  after(async () => {
    await traffic?.stop();
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await consumer?.close();
    await db?.drop();
  });

  it('stores every acknowledged callback once and delivers it under one webhook-id', async () => {
    const [killed, terminated, survivor] = procs as [SpawnedDaemon, SpawnedDaemon, SpawnedDaemon];
    const alive = [...procs];
    let turn = 0;
    traffic = startTraffic(() => alive[turn++ % alive.length]?.callbackUrl, { senders: 3, pauseMs: 10 });
    await traffic.waitForAcks(90, 15_000);

    alive.splice(alive.indexOf(killed), 1);
    killed.child.kill('SIGKILL');
    expect(await killed.exited).to.equal('SIGKILL');
    const deadAt = Date.now();
    await traffic.waitForAcks(60, 15_000);

    alive.splice(alive.indexOf(terminated), 1);
    terminated.child.kill('SIGTERM');
    expect(await terminated.exited, `the SIGTERMed daemon's exit:\n${terminated.output()}`).to.equal(0);
    await traffic.waitForAcks(60, 15_000);
    await traffic.stop();
    expect(survivor.child.exitCode).to.equal(null);

    const acked = [...traffic.acked.keys()];
    // Every delivery is finished on the survivor, including those the killed one held a lease on.
    await waitUntil(
      async () => {
        const queue = await withStore({ url: db.url }, (store) => store.readQueueState());
        return queue.oldestUnfinishedMs === undefined;
      },
      'every delivery to be finished',
      LEASE_MS + 15_000,
    );

    const stored = await withStore({ url: db.url }, (store) => store.listEvents({ type: 'payout', limit: ALL }));
    const timesStored = new Map<string, number>();
    for (const e of stored)
      timesStored.set(String(e.controlNumber), (timesStored.get(String(e.controlNumber)) ?? 0) + 1);
    expect(
      acked.filter((cn) => timesStored.get(cn) !== 1),
      'acknowledged callbacks not stored exactly once',
    ).to.deep.equal([]);
    const deliveries = await withStore({ url: db.url }, (store) => store.listDeliveries({ limit: ALL }));
    expect(new Set(deliveries.map((d) => d.state)), 'delivery states').to.deep.equal(new Set(['delivered']));

    const receipts = new Map<string, RecordedRequest[]>();
    for (const r of consumer.requests) {
      const cn = /"controlNumber":"([^"]+)"/.exec(r.body)?.[1];
      expect(cn, `a webhook without a controlNumber: ${r.body}`).to.be.a('string');
      receipts.set(cn as string, [...(receipts.get(cn as string) ?? []), r]);
    }
    expect(
      acked.filter((cn) => !receipts.has(cn)),
      'acknowledged callbacks never delivered',
    ).to.deep.equal([]);
    let takenOver = 0;
    for (const [cn, rs] of receipts) {
      const ids = new Set(rs.map((r) => String(r.headers['webhook-id'])));
      expect(ids.size, `webhook-ids of ${cn}`).to.equal(1);
      if (rs.length === 1) continue;
      // Sent twice: only because the killed process sent it and died before recording so, and the survivor
      // took the delivery over once the lease ran out.
      takenOver += 1;
      const [first, ...again] = rs as [RecordedRequest, ...RecordedRequest[]];
      expect(first.receivedAt, `${cn}: first sent by the killed process`).to.be.lessThan(deadAt + LAST_BYTES_MS);
      for (const r of again) {
        expect(r.receivedAt - first.receivedAt, `${cn}: sent again only after the lease expired`).to.be.at.least(
          LEASE_MS - CLAIM_TO_SEND_MS,
        );
      }
    }
    // Whether the kill lands while one of its sends is at the consumer is timing (a clean-clone CI run saw none):
    // the takeover itself is pinned by the contract suite's lease-expiry case; here every repeat obeys the lease.
    note(`${takenOver} deliveries the killed process had sent were taken over after its lease`);
  });
});
