import { expect } from 'chai';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { makeTempDir, waitUntil } from '../../support/daemon';
import { getRefusedUrl } from '../../support/receiver';
import { spawnDaemon } from '../../support/spawn';
import { buildCallback, postCallback } from '../../support/skypay';
import { ALL, withStore } from '../../support/store';

const SECRET = `whsec_${Buffer.from('crash-test-secret-0123456789').toString('base64')}`;

/** A consumer on a chosen port that records webhook-ids and can delay its answer. */
async function startConsumer(port: number, delayMs = 0) {
  const received: { id: string; controlNumber: string; at: number }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      const data = (JSON.parse(body) as { data: { controlNumber: string } }).data;
      received.push({ id: String(req.headers['webhook-id']), controlNumber: data.controlNumber, at: Date.now() });
      setTimeout(() => res.end('ok'), delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    received,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function daemonConfig(dbPath: string, consumerUrl: string, delivery: Record<string, unknown>) {
  return {
    server: { host: '127.0.0.1', port: 0 },
    store: { path: dbPath },
    destinations: { ledger: { type: 'webhook', url: consumerUrl, secret: SECRET } },
    rules: [{ name: 'ledger-feed', to: ['ledger'] }],
    delivery,
  };
}

describe('durability across crashes (built daemon)', function () {
  this.timeout(60_000);

  it('delivers all 40 callbacks acknowledged while the consumer was down, after SIGKILL and restart', async () => {
    const dbPath = path.join(makeTempDir(), 'crash.db');
    const consumerUrl = await getRefusedUrl();
    const config = daemonConfig(dbPath, `${consumerUrl}/hooks`, {
      maxAttempts: 100,
      initialBackoffMs: 100,
      maxBackoffMs: 400,
      timeoutMs: 1000,
      pollIntervalMs: 100,
    });
    const first = await spawnDaemon(config);
    const sent = Array.from({ length: 40 }, (_, i) => buildCallback({ payType: String((i % 6) + 1) }));
    const acks = await Promise.all(sent.map((body) => postCallback(first.callbackUrl, body)));
    expect(acks.every((a) => a.json?.['responseCode'] === '1000')).to.equal(true);
    // The consumer is down: attempts fail and are recorded, nothing is delivered.
    // Read beside the running daemon, the way the CLI does.
    const deliveries = () => withStore(dbPath, (store) => store.listDeliveries({ limit: ALL }));
    const inState = async (state: string) => (await deliveries()).filter((d) => d.state === state).length;
    await waitUntil(
      async () => (await deliveries()).filter((d) => d.lastError !== null || d.lastStatus !== null).length >= 10,
      'failed attempts to be recorded',
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).to.equal('SIGKILL');

    const consumer = await startConsumer(Number(new URL(consumerUrl).port));
    const second = await spawnDaemon(config);
    try {
      await waitUntil(
        () => new Set(consumer.received.map((r) => r.controlNumber)).size === 40,
        'all 40 callbacks to reach the consumer',
        30_000,
      );
      await waitUntil(async () => (await inState('delivered')) === 40, 'all delivered');
      expect(await inState('dead')).to.equal(0);
      // At-least-once with a stable id: any repeat carries the same webhook-id as the first.
      const idsByControl = new Map<string, Set<string>>();
      for (const r of consumer.received)
        idsByControl.set(r.controlNumber, (idsByControl.get(r.controlNumber) ?? new Set()).add(r.id));
      expect([...idsByControl.values()].every((ids) => ids.size === 1)).to.equal(true);
      expect([...idsByControl.keys()].sort()).to.deep.equal(sent.map((b) => String(b['controlNumber'])).sort());
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
      await consumer.close();
    }
  });

  it('on SIGTERM lets a send in flight finish before exiting 0', async () => {
    const dbPath = path.join(makeTempDir(), 'drain.db');
    const consumer = await startConsumer(0, 800);
    const d = await spawnDaemon(
      daemonConfig(dbPath, `http://127.0.0.1:${consumer.port}/hooks`, {
        maxAttempts: 3,
        initialBackoffMs: 100,
        maxBackoffMs: 400,
        timeoutMs: 5000,
        pollIntervalMs: 100,
      }),
    );
    try {
      const body = buildCallback();
      await postCallback(d.callbackUrl, body);
      await waitUntil(() => consumer.received.length === 1, 'the send to be in flight');
      const signalled = Date.now();
      d.child.kill('SIGTERM');
      expect(await d.exited).to.equal(0);
      expect(Date.now() - signalled).to.be.at.least(500);
      const [row] = await withStore(dbPath, (store) => store.listDeliveries({ limit: ALL }));
      expect(row).to.include({ state: 'delivered', attempts: 1 });
    } finally {
      await consumer.close();
    }
  });
});
