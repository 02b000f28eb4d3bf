import { expect } from 'chai';
import path from 'node:path';
import { makeTempDir, startTestDaemon } from '../../support/daemon';
import { withStore } from '../../support/store';
import { spawnDaemon, type SpawnedDaemon } from '../../support/spawn';
import { buildCallback, postCallback } from '../../support/skypay';

async function countEvents(dbPath: string, controlNumber: unknown): Promise<{ events: number; duplicates: number }> {
  const rows = await withStore(dbPath, (store) => store.findEventsByControlNumber(String(controlNumber)));
  return { events: rows.length, duplicates: rows.reduce((n, r) => n + r.duplicates, 0) };
}

describe('dedup', () => {
  it('turns fifty identical callbacks arriving at once into exactly one event', async () => {
    const t = await startTestDaemon();
    try {
      const body = buildCallback({ payType: '4', failDescription: 'Invalid account' });
      const replies = await Promise.all(Array.from({ length: 50 }, () => postCallback(t.callbackUrl, body)));
      expect(replies.every((r) => r.status === 200 && r.json?.['responseCode'] === '1000')).to.equal(true);
      expect(await countEvents(t.dbPath, body['controlNumber'])).to.deep.equal({ events: 1, duplicates: 49 });
    } finally {
      await t.stop();
    }
  });

  it('remembers callbacks across a restart on the same file', async () => {
    const dbPath = path.join(makeTempDir(), 'restart.db');
    const body = buildCallback({ payType: '2' });
    const first = await startTestDaemon({}, { dbPath });
    expect((await postCallback(first.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
    await first.stop();
    const second = await startTestDaemon({}, { dbPath });
    try {
      expect((await postCallback(second.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
      expect(await countEvents(dbPath, body['controlNumber'])).to.deep.equal({ events: 1, duplicates: 1 });
    } finally {
      await second.stop();
    }
  });

  describe('several processes on one SQLite file (as pm2 cluster mode runs it)', function () {
    this.timeout(60_000);
    const dbPath = path.join(makeTempDir(), 'cluster.db');
    const procs: SpawnedDaemon[] = [];
    before(async () => {
      const config = { server: { host: '127.0.0.1', port: 0 }, store: { path: dbPath } };
      // Started together: each migrates (or finds the schema) inside an IMMEDIATE transaction.
      procs.push(...(await Promise.all([1, 2, 3].map(() => spawnDaemon(config)))));
    });
    after(async () => {
      for (const p of procs) p.child.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.exited));
    });

    it('still makes exactly one event of fifty identical callbacks spread over three processes', async () => {
      const body = buildCallback({ payType: '3' });
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          postCallback((procs[i % procs.length] as SpawnedDaemon).callbackUrl, body),
        ),
      );
      expect(replies.map((r) => r.json?.['responseCode'])).to.deep.equal(Array(50).fill('1000'));
      expect(await countEvents(dbPath, body['controlNumber'])).to.deep.equal({ events: 1, duplicates: 49 });
    });
  });
});
