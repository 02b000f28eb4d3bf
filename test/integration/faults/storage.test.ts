import { expect } from 'chai';
import path from 'node:path';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { withStore } from '../../support/store';
import { startReceiver, type Receiver } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';
import { prepareSmallDisk, type SmallDisk } from '../../support/small-disk';
import { sqliteHandle } from '../../support/sqlite';

/**
 * The disk fills up, or the database stops taking writes: callbacks are
 * answered 503 (never 1000), /readyz says why, and both come back on their
 * own once the fault clears, with the rejected callbacks accepted when SkyPay
 * sends them again.
 *
 * A file cannot be made read-only under an open connection for real: the
 * kernel refuses to remount a filesystem read-only while files on it are
 * open for writing, and root ignores file modes. The read-only case therefore
 * sets PRAGMA query_only on the daemon's own connection, which fails every
 * write with SQLITE_READONLY exactly as a read-only file does.
 */
describe('storage faults', function () {
  this.timeout(60_000);
  let disk: SmallDisk;
  let receiver: Receiver;
  let t: TestDaemon;

  before(async () => {
    disk = prepareSmallDisk();
    receiver = await startReceiver();
    t = await startTestDaemon(
      {
        destinations: {
          consumer: {
            type: 'webhook',
            url: `${receiver.url}/hook`,
            secret: `whsec_${Buffer.alloc(32, 4).toString('base64')}`,
          },
        },
        rules: [{ name: 'all', to: ['consumer'] }],
        delivery: { initialBackoffMs: 50, maxBackoffMs: 200, pollIntervalMs: 100 },
      },
      { dbPath: path.join(disk.dir, 'skyrelay.db') },
    );
  });
  after(async () => {
    await t.stop().catch(() => undefined);
    await receiver.close();
    disk.release();
  });

  const readiness = async (): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${t.baseUrl}/readyz`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** Sends fresh callbacks until `rejections` of them were rejected (or `max` were sent); returns who got what. */
  async function sendUntilRejected(
    rejections: number,
    max: number,
  ): Promise<{ acked: Record<string, unknown>[]; rejected: Record<string, unknown>[] }> {
    const acked: Record<string, unknown>[] = [];
    const rejected: Record<string, unknown>[] = [];
    for (let i = 0; i < max && rejected.length < rejections; i++) {
      const body = buildCallback({ payType: '4', failDescription: 'x'.repeat(2_000) });
      const res = await postCallback(t.callbackUrl, body);
      if (res.json?.['responseCode'] === '1000') {
        acked.push(body);
      } else {
        expect(res.status, 'a write that did not commit is answered 503').to.equal(503);
        expect(res.json).to.include({ responseCode: '503' });
        rejected.push(body);
      }
    }
    return { acked, rejected };
  }

  async function expectRecovery(rejected: Record<string, unknown>[], acked: Record<string, unknown>[]): Promise<void> {
    await waitUntil(async () => (await readiness()).status === 200, '/readyz to recover once the fault cleared');
    for (const body of rejected)
      expect((await postCallback(t.callbackUrl, body)).json?.['responseCode'], 'sent again').to.equal('1000');
    const counts = await countEvents(
      t.dbPath,
      [...acked, ...rejected].map((b) => String(b['controlNumber'])),
    );
    expect(
      counts.filter((n) => n !== 1),
      'every acknowledged callback stored exactly once',
    ).to.deep.equal([]);
    const all = [...acked, ...rejected].map((b) => `"controlNumber":"${String(b['controlNumber'])}"`);
    await receiver.waitFor((rs) => all.every((cn) => rs.some((r) => r.body.includes(cn))), 10_000);
  }

  it('answers 503 on a full disk, never 1000, says so on /readyz, and recovers when space returns', async function () {
    if (this.test) this.test.title += ` (${disk.kind})`;
    expect((await postCallback(t.callbackUrl, buildCallback())).json?.['responseCode']).to.equal('1000');
    disk.fill(sqliteHandle(t.daemon.store));
    let during;
    try {
      during = await sendUntilRejected(10, 500);
      expect(during.rejected, 'the full disk must show').to.have.length(10);
      // A 1000 during the fault is allowed only if the write really fitted; expectRecovery proves it was stored.
      expect(
        await countEvents(
          t.dbPath,
          during.rejected.map((b) => String(b['controlNumber'])),
        ),
        '503 means not stored',
      ).to.deep.equal(during.rejected.map(() => 0));
      // Under the page cap (no tmpfs) the probe's one-row write still fits in an existing page, so only a real full disk shows here.
      if (disk.kind === 'tmpfs')
        expect(await readiness()).to.deep.include({
          status: 503,
          body: { status: 'unavailable', database: 'SQLITE_FULL' },
        });
    } finally {
      disk.clear(sqliteHandle(t.daemon.store));
    }
    await expectRecovery(during.rejected, during.acked);
  });

  it('answers 503 while the database refuses writes (read-only), says so on /readyz, and recovers', async () => {
    sqliteHandle(t.daemon.store).pragma('query_only = ON');
    let during;
    try {
      during = await sendUntilRejected(5, 5);
      expect(during.acked, 'nothing can be acknowledged while nothing can be written').to.deep.equal([]);
      expect(await readiness()).to.deep.include({
        status: 503,
        body: { status: 'unavailable', database: 'SQLITE_READONLY' },
      });
    } finally {
      sqliteHandle(t.daemon.store).pragma('query_only = OFF');
    }
    await expectRecovery(during.rejected, []);
  });
});

function countEvents(dbPath: string, controlNumbers: string[]): Promise<number[]> {
  return withStore(dbPath, (store) =>
    Promise.all(controlNumbers.map(async (cn) => (await store.findEventsByControlNumber(cn)).length)),
  );
}
