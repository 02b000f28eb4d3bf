import { expect } from 'chai';
import fs from 'node:fs';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { startReceiver, type Receiver } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';

const REASON = 'database file was removed or replaced';
const SIDE_FILES = ['', '-wal', '-shm'];

/**
 * The SQLite file is deleted or renamed under the running daemon. SQLite
 * keeps writing through its open handle, so before this every callback still
 * got 1000 and vanished at the next start. Now the daemon notices (one stat
 * per group commit, and every second), refuses callbacks with 503, turns both
 * probes red naming the reason, logs it once and raises a `database.lost`
 * alert, which still goes out: it is written through the same open handle
 * the delivery worker reads.
 */
describe('database file removed or replaced under the daemon', function () {
  this.timeout(20_000);
  let receiver: Receiver;
  let t: TestDaemon;

  beforeEach(async () => {
    receiver = await startReceiver();
    t = await startTestDaemon({
      destinations: {
        ops: { type: 'webhook', url: `${receiver.url}/ops`, secret: `whsec_${Buffer.alloc(32, 9).toString('base64')}` },
      },
      rules: [{ name: 'ops-alerts', match: { source: 'skyrelay', type: 'database.lost' }, to: ['ops'] }],
    });
    expect((await postCallback(t.callbackUrl, buildCallback())).json?.['responseCode'], 'before the fault').to.equal(
      '1000',
    );
  });
  afterEach(async () => {
    await t.stop();
    await receiver.close();
  });

  const probe = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${t.baseUrl}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  async function expectRejectedFromNowOn(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      const res = await postCallback(t.callbackUrl, buildCallback({ payType: String((i % 6) + 1) }));
      expect(res.status, 'a callback that cannot be kept is refused').to.equal(503);
      expect(res.json).to.include({ responseCode: '503' });
      expect(res.text).not.to.contain('1000');
    }
    expect(await probe('/healthz')).to.deep.include({ status: 503 });
    expect((await probe('/healthz')).body).to.include({ status: 'error', database: REASON });
    expect(await probe('/readyz')).to.deep.equal({ status: 503, body: { status: 'unavailable', database: REASON } });
  }

  function expectLoggedOnce(): void {
    const lines = t.logs.filter((l) => l.includes(REASON) && l.includes('"level":50'));
    expect(lines, 'logged at error, once').to.have.length(1);
  }

  it('after rm of the db, -wal and -shm files: 503, never 1000, red probes naming the reason, one error line, one alert', async () => {
    for (const suffix of SIDE_FILES) fs.rmSync(`${t.dbPath}${suffix}`, { force: true });
    // No traffic needed: the periodic check notices within a second, logs, and the alert goes out.
    const [alert] = await receiver.waitFor(1, 5_000);
    expect(alert?.json).to.deep.include({ type: 'skyrelay.database.lost' });
    const event = (alert?.json as { data: { source: string; data: Record<string, unknown> } }).data;
    expect(event.source).to.equal('skyrelay');
    expect(event.data).to.include({ reason: REASON, path: t.dbPath });
    await expectRejectedFromNowOn();
    expectLoggedOnce();
    expect(fs.existsSync(t.dbPath), 'nothing recreated the file behind the operator').to.equal(false);
  });

  it('after a rename: 503 from the next callback on, and still 503 once the file is renamed back', async () => {
    for (const suffix of SIDE_FILES) fs.renameSync(`${t.dbPath}${suffix}`, `${t.dbPath}.moved${suffix}`);
    await expectRejectedFromNowOn();
    await receiver.waitFor(1, 5_000);
    // Until a restart opens the file afresh, nothing is acknowledged again, even with the file back in place.
    for (const suffix of SIDE_FILES) fs.renameSync(`${t.dbPath}.moved${suffix}`, `${t.dbPath}${suffix}`);
    await expectRejectedFromNowOn();
    expectLoggedOnce();
    expect(receiver.requests, 'one alert').to.have.length(1);
  });

  it('acknowledges again after a restart on a real file', async () => {
    for (const suffix of SIDE_FILES) fs.rmSync(`${t.dbPath}${suffix}`, { force: true });
    expect((await postCallback(t.callbackUrl, buildCallback())).status).to.equal(503);
    await t.stop();
    t = await startTestDaemon({}, { dbPath: t.dbPath });
    expect((await postCallback(t.callbackUrl, buildCallback())).json?.['responseCode']).to.equal('1000');
    expect((await probe('/healthz')).status).to.equal(200);
    expect((await probe('/readyz')).status).to.equal(200);
  });
});
