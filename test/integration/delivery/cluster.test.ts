import { expect } from 'chai';
import path from 'node:path';
import { makeTempDir, waitUntil } from '../../support/daemon';
import { startReceiver } from '../../support/receiver';
import { spawnDaemon, type SpawnedDaemon } from '../../support/spawn';
import { buildCallback, postCallback } from '../../support/skypay';

describe('delivery with several processes on one SQLite file', function () {
  this.timeout(60_000);

  it('claims each delivery once: 60 callbacks through two processes reach the consumer 60 times', async () => {
    const consumer = await startReceiver();
    const config = {
      server: { host: '127.0.0.1', port: 0 },
      store: { path: path.join(makeTempDir(), 'shared.db') },
      destinations: {
        ledger: {
          type: 'webhook',
          url: `${consumer.url}/hooks`,
          secret: `whsec_${Buffer.from('two-processes-one-file-secret').toString('base64')}`,
          maxInFlight: 3,
        },
      },
      rules: [{ name: 'ledger-feed', to: ['ledger'] }],
      delivery: { pollIntervalMs: 50 },
    };
    const procs: SpawnedDaemon[] = await Promise.all([spawnDaemon(config), spawnDaemon(config)]);
    try {
      const bodies = Array.from({ length: 60 }, () => buildCallback({ payType: '2' }));
      const acks = await Promise.all(
        bodies.map((b, i) => postCallback((procs[i % 2] as SpawnedDaemon).callbackUrl, b)),
      );
      expect(acks.every((a) => a.json?.['responseCode'] === '1000')).to.equal(true);
      const delivered = () => procs.map((p) => (p.output().match(/"outcome":"delivered"/g) ?? []).length);
      await waitUntil(
        () => delivered().reduce((a, b) => a + b, 0) >= 60,
        'both processes to record 60 deliveries',
        20_000,
      );
      // A double claim would show as a second request with an id already seen.
      const ids = consumer.requests.map((r) => String(r.headers['webhook-id']));
      expect(ids).to.have.length(60);
      expect(new Set(ids).size).to.equal(60);
      expect(delivered().reduce((a, b) => a + b, 0)).to.equal(60);
    } finally {
      for (const p of procs) p.child.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.exited));
      await consumer.close();
    }
  });
});
