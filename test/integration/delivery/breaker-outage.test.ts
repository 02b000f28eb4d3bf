import { expect } from 'chai';
import type { AttemptReport } from '../../../src/delivery/types';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { note } from '../../support/notes';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';
import { replies, startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import { startTraffic } from '../../support/traffic';

/**
 * A receiver down for a while under steady callbacks, with the breaker on: it opens after `failures` in a row,
 * then only one probe per interval reaches the receiver (across every instance), nothing dies however small
 * maxAttempts is, and once the receiver is back the first probe closes the breaker and the backlog drains. One
 * destination.unhealthy and one destination.recovered go to the ops webhook, through a silence that matches
 * everything. The 30 s outage with 30 s probes is scaled down, keeping the ratio that matters: the outage
 * lasts five probes at 1 s.
 */
const PROBE_MS = 1_000;
const PROBES_DOWN = 5;
const FAILURES = 3;

interface Alert {
  type: string;
  data: Record<string, unknown>;
  receivedAt: number;
}

function alertsOf(requests: readonly RecordedRequest[]): Alert[] {
  return requests.map((r) => {
    const body = r.json as { type: string; data: { data: Record<string, unknown> } };
    return { type: body.type, data: body.data.data, receivedAt: r.receivedAt };
  });
}

const controlNumberOf = (r: RecordedRequest): string =>
  String((r.json as { data?: { controlNumber?: string } } | undefined)?.data?.controlNumber);

function configFor(consumer: Receiver, ops: Receiver, store: Record<string, unknown> = {}) {
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
  return {
    ...store,
    destinations: {
      consumer: {
        type: 'webhook',
        url: `${consumer.url}/hook`,
        secret,
        breaker: { failures: FAILURES, probeIntervalMs: PROBE_MS },
      },
      ops: { type: 'webhook', url: `${ops.url}/ops`, secret, breaker: false },
    },
    rules: [
      { name: 'all', to: ['consumer'] },
      { name: 'health', match: { source: 'skyrelay' }, to: ['ops'] },
    ],
    // A maxAttempts this small would kill deliveries within seconds of an outage without the breaker.
    delivery: { initialBackoffMs: 200, maxBackoffMs: 1_000, maxAttempts: 3, timeoutMs: 2_000, pollIntervalMs: 200 },
    silences: { refreshIntervalMs: 200 },
  };
}

async function runOutage(daemons: readonly TestDaemon[], consumer: Receiver, ops: Receiver): Promise<void> {
  const [first] = daemons as [TestDaemon];
  const attempts: AttemptReport[] = [];
  for (const t of daemons) t.daemon.events.on('delivery.attempt', (r) => attempts.push(r));
  // A silence matching every event, skyrelay's own included, on the ops destination: it must not hold these back.
  const now = Date.now();
  await first.daemon.store.createSilence({
    id: 'sil_everything',
    matchers: { type: { regex: '' } },
    destinations: ['ops'],
    startsAtMs: now - 1_000,
    endsAtMs: now + 3_600_000,
    createdBy: 'test',
    createdAtMs: now,
    comment: 'a quiet afternoon',
    createdVia: 'test',
    createdFrom: null,
  });
  let turn = 0;
  const urls = daemons.map((t) => t.callbackUrl);
  const traffic = startTraffic(() => urls[turn++ % urls.length], { senders: 2, pauseMs: 40 });
  try {
    await consumer.waitFor(10, 10_000);
    consumer.respondWith(replies.unavailable());
    const downAt = Date.now();
    const [unhealthy] = alertsOf(await ops.waitFor(1, 10_000));
    expect(unhealthy?.type).to.equal('skyrelay.destination.unhealthy');
    const sinceMs = Date.parse(String(unhealthy?.data['since']));
    // Down for PROBES_DOWN probes after it opened.
    const probesAfter = (rs: readonly RecordedRequest[]) => rs.filter((r) => r.receivedAt >= sinceMs).length;
    await consumer.waitFor((rs) => probesAfter(rs) >= PROBES_DOWN, PROBES_DOWN * PROBE_MS + 10_000);
    consumer.respondWith(replies.ok());
    const upAt = Date.now();
    const sentWhileOpen = consumer.requests.filter((r) => r.receivedAt >= sinceMs && r.receivedAt < upAt);
    const sentWhileDown = consumer.requests.filter((r) => r.receivedAt >= downAt && r.receivedAt < upAt);
    const allowed = Math.floor((upAt - sinceMs) / PROBE_MS) + 1;
    expect(sentWhileOpen.length, `sends while open over ${upAt - sinceMs} ms`).to.be.at.most(allowed);

    const alerts = await ops.waitFor(2, 10_000);
    await traffic.waitForAcks(10, 10_000);
    await traffic.stop();
    const acked = [...traffic.acked.keys()];
    // Every acknowledged callback reaches the consumer and is taken (a delivered attempt); a delivery stops being
    // sent once taken, so its last receipt is the one answered 200.
    const delivered = new Set(attempts.filter((a) => a.next.state === 'delivered').map((a) => a.delivery.event));
    const deliveredCns = () =>
      new Set([...delivered].map((e) => (e as { controlNumber?: string }).controlNumber).filter((cn) => cn));
    await waitUntil(
      () => {
        delivered.clear();
        for (const a of attempts) if (a.next.state === 'delivered') delivered.add(a.delivery.event);
        const got = deliveredCns();
        return acked.every((cn) => got.has(cn));
      },
      'every acknowledged callback delivered',
      15_000,
    );
    const lastReceipt = (cn: string) =>
      Math.max(...consumer.requests.filter((r) => controlNumberOf(r) === cn).map((r) => r.receivedAt));
    const waited = acked.filter((cn) => lastReceipt(cn) >= downAt);
    const latest = Math.max(...waited.map((cn) => lastReceipt(cn) - upAt));
    expect(latest, 'the last waiting delivery arrived this long after the receiver was back').to.be.at.most(5_000);

    const dead = await first.daemon.store.listDeliveries({ state: 'dead', limit: 10 });
    expect(dead, 'nothing dead').to.deep.equal([]);
    expect(attempts.filter((a) => a.next.state === 'dead')).to.deep.equal([]);
    const kinds = alertsOf(alerts).map((a) => a.type);
    expect(kinds).to.deep.equal(['skyrelay.destination.unhealthy', 'skyrelay.destination.recovered']);
    expect(unhealthy?.data).to.include({ destination: 'consumer', state: 'open' });
    expect(String(unhealthy?.data['lastErrors'])).to.match(/HTTP 503/);
    expect(unhealthy?.data['backlog']).to.be.a('number');
    const recovered = alertsOf(alerts)[1]?.data;
    expect(recovered).to.include({ destination: 'consumer', state: 'closed', since: unhealthy?.data['since'] });
    expect(recovered?.['waited']).to.be.a('number').and.at.least(1);
    expect(recovered?.['outageMs']).to.be.at.least(PROBES_DOWN * PROBE_MS - PROBE_MS);
    // No more alerts came in while the backlog drained.
    expect(ops.requests).to.have.length(2);
    note(
      `${daemons.length} instance(s): ${sentWhileDown.length} sends while down (${sentWhileOpen.length} while open, at most ` +
        `${allowed} allowed over ${upAt - sinceMs} ms), ${waited.length} deliveries waited, the last ${latest} ms after ` +
        `the receiver was back; ${acked.length} acknowledged, 0 dead`,
    );
  } finally {
    await traffic.stop();
  }
}

describe('breaker: a receiver down under steady callbacks (SQLite)', function () {
  this.timeout(60_000);
  let consumer: Receiver;
  let ops: Receiver;
  let t: TestDaemon | undefined;

  beforeEach(async () => {
    consumer = await startReceiver();
    ops = await startReceiver();
  });
  afterEach(async () => {
    await t?.stop();
    await consumer.close();
    await ops.close();
  });

  it('sends one probe per interval while open, kills nothing, drains within 5 s, and alerts once each way', async () => {
    t = await startTestDaemon(configFor(consumer, ops));
    await runOutage([t], consumer, ops);
  });
});

describePostgres(
  'breaker: a receiver down under steady callbacks, two instances on one PostgreSQL database',
  function () {
    this.timeout(60_000);
    let db: TestDatabase | undefined;
    let consumer: Receiver;
    let ops: Receiver;
    const daemons: TestDaemon[] = [];

    afterEach(async () => {
      await Promise.all(daemons.map((d) => d.stop()));
      daemons.length = 0;
      await consumer.close();
      await ops.close();
      await db?.drop();
    });

    it('lets one probe per interval through in total, and alerts once each way across the cluster', async () => {
      db = await createTestDatabase();
      consumer = await startReceiver();
      ops = await startReceiver();
      const config = configFor(consumer, ops, { store: { url: db.url } });
      daemons.push(await startTestDaemon(config), await startTestDaemon(config));
      await runOutage(daemons, consumer, ops);
    });
  },
);
