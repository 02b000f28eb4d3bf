import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, waitUntil } from '../../support/daemon';
import { spawnDaemon, type SpawnedDaemon } from '../../support/spawn';
import { buildCallback, postCallback } from '../../support/skypay';
import { startReceiver, type Receiver } from '../../support/receiver';
import { ALL, withStore } from '../../support/store';
import { startTraffic } from '../../support/traffic';

const WAL_REASON = 'database -wal file was removed or replaced';
const SHM_REASON = 'database -shm file was removed or replaced';

/** What one of the concurrent senders was told, and when. */
interface Answer {
  controlNumber: string;
  answer: string;
  sentAt: number;
  answeredAt: number;
}

async function probe(d: SpawnedDaemon, at: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${d.baseUrl}${at}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Every control number the store on `dbPath` holds an event for, read the way the CLI reads. */
async function storedControlNumbers(dbPath: string): Promise<Set<string>> {
  const events = await withStore(dbPath, (store) => store.listEvents({ limit: ALL }));
  return new Set(events.map((e) => e.controlNumber ?? ''));
}

/**
 * SQLite commits into the -wal file and copies it into the database file only at checkpoints. Removed under the
 * running daemon, the -wal lives on as an open, nameless file: commits still succeed and were answered 1000, and
 * whatever it held was gone at the next start (73 of 420 acknowledged callbacks in the attack). The daemon now
 * checks the -wal and -shm as it checks the database file (at every group commit and every second): it refuses
 * callbacks with 503, turns both probes red, and copies what the removed log holds into the database file, so
 * every callback it acknowledged survives a SIGKILL.
 */
describe('-wal or -shm removed under a loaded daemon (built daemon, SIGKILL)', function () {
  this.timeout(90_000);
  const spawned: SpawnedDaemon[] = [];
  let ops: Receiver;
  beforeEach(async () => {
    ops = await startReceiver();
  });
  afterEach(async () => {
    await ops.close();
    for (const d of spawned.splice(0)) {
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
      await d.exited;
    }
  });

  const start = async (dbPath: string): Promise<SpawnedDaemon> => {
    const d = await spawnDaemon({
      server: { host: '127.0.0.1', port: 0 },
      store: { path: dbPath },
      // The alert goes out through the handle still open on the removed -wal.
      destinations: {
        ops: { type: 'webhook', url: `${ops.url}/ops`, secret: `whsec_${Buffer.alloc(32, 9).toString('base64')}` },
      },
      rules: [{ name: 'ops-alerts', match: { source: 'skyrelay', type: 'database.lost' }, to: ['ops'] }],
    });
    spawned.push(d);
    return d;
  };

  for (const [suffix, reason] of [
    ['-wal', WAL_REASON],
    ['-shm', SHM_REASON],
  ] as const) {
    it(`rm ${suffix} under 8 senders: 503 and red probes from then on, and every 1000 survives SIGKILL + restart`, async () => {
      const dbPath = path.join(makeTempDir(), 'skyrelay.db');
      const first = await start(dbPath);
      const answers: Answer[] = [];
      let removedAt = Infinity;
      let readiness: Awaited<ReturnType<typeof probe>> | undefined;
      let health: Awaited<ReturnType<typeof probe>> | undefined;
      const traffic = startTraffic(() => first.callbackUrl, {
        senders: 8,
        pauseMs: 1,
        onAnswer: (body, answer, sentAt) =>
          answers.push({ controlNumber: String(body['controlNumber']), answer, sentAt, answeredAt: Date.now() }),
      });
      try {
        await traffic.waitForAcks(100, 30_000);
        expect(fs.existsSync(`${dbPath}${suffix}`), `SQLite made ${suffix}`).to.equal(true);
        removedAt = Date.now();
        fs.rmSync(`${dbPath}${suffix}`);
        // Keep sending, as SkyPay would, until plenty of callbacks have met the removed file.
        await waitUntil(
          () => answers.filter((a) => a.sentAt > removedAt).length >= 300,
          '300 callbacks sent after the removal',
          30_000,
        );
        readiness = await probe(first, '/readyz');
        health = await probe(first, '/healthz');
        const [alert] = await ops.waitFor(1, 10_000);
        const lostEvent = alert?.json as { type: string; data: { data: Record<string, unknown> } } | undefined;
        expect(lostEvent?.type).to.equal('skyrelay.database.lost');
        expect(lostEvent?.data.data).to.include({ reason });
      } finally {
        await traffic.stop();
      }
      first.child.kill('SIGKILL');
      expect(await first.exited).to.equal('SIGKILL');

      const acked = answers.filter((a) => a.answer === '1000').map((a) => a.controlNumber);
      expect(acked.length).to.be.at.least(100);
      // What a restarted process on the same folder sees: every acknowledged callback, and real files to use.
      const second = await start(dbPath);
      const stored = await storedControlNumbers(dbPath);
      const lost = acked.filter((cn) => !stored.has(cn));
      // With what the first process logged: whether it copied the removed -wal home, or why not.
      expect(
        lost,
        `acknowledged callbacks lost (of ${acked.length}); it logged:\n${first.output().slice(-3000)}`,
      ).to.deep.equal([]);

      expect(readiness?.body, 'red while callbacks met the removed file').to.deep.equal({
        status: 'unavailable',
        database: reason,
      });
      expect(health?.status).to.equal(503);
      const refusedAt = Math.min(...answers.filter((a) => a.answer === '503').map((a) => a.answeredAt));
      expect(refusedAt, 'the daemon noticed and refused').to.be.below(Infinity);
      const lateAcks = answers.filter((a) => a.answer === '1000' && a.sentAt >= refusedAt);
      expect(lateAcks, 'no 1000 for a callback sent once a refusal was seen').to.deep.equal([]);
      expect(
        answers.filter((a) => a.answer !== '1000' && a.answer !== '503'),
        'only 1000 or 503',
      ).to.deep.equal([]);
      expect((await probe(second, '/readyz')).status).to.equal(200);
      expect((await postCallback(second.callbackUrl, buildCallback())).json?.['responseCode']).to.equal('1000');
      expect(second.output(), 'the restarted process finds nothing lost').not.to.contain('removed or replaced');
      expect(first.output()).to.contain(reason);
    });
  }
});
