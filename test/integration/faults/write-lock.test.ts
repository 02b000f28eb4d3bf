import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { buildCallback, postCallback } from '../../support/skypay';
import { note } from '../../support/notes';
import { openSqliteFile, type SqliteHandle } from '../../support/sqlite';

/**
 * Another process (here: another connection, which SQLite locks against in
 * the same way) holds BEGIN IMMEDIATE. better-sqlite3 waits for a lock on
 * the event loop, so a long busy_timeout froze every request, /healthz
 * included; the probes must answer as fast as they do without the lock, whatever the database does.
 */
describe('a write lock held by another process', function () {
  this.timeout(20_000);
  const BUSY_TIMEOUT_MS = 800;
  let t: TestDaemon;
  let other: SqliteHandle;

  beforeEach(async () => {
    t = await startTestDaemon({ store: { busyTimeoutMs: BUSY_TIMEOUT_MS } });
    other = openSqliteFile(t.dbPath);
    // The first requests of a fresh process (connection, JIT) are slow whatever the database does.
    for (const path of ['/healthz', '/readyz', '/healthz', '/readyz'])
      await fetch(`${t.baseUrl}${path}`).then((r) => r.arrayBuffer());
    expect((await postCallback(t.callbackUrl, buildCallback())).json?.['responseCode']).to.equal('1000');
  });
  afterEach(async () => {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
    await t.stop();
  });

  const probe = async (path: string): Promise<{ ms: number; status: number; body: Record<string, unknown> }> => {
    const started = performance.now();
    const res = await fetch(`${t.baseUrl}${path}`);
    const body = (await res.json()) as Record<string, unknown>;
    return { ms: performance.now() - started, status: res.status, body };
  };

  /** Both probes, again and again for `forMs`: each one's answer times. */
  async function probeFor(forMs: number): Promise<{ healthz: number[]; readyz: number[] }> {
    const times: { healthz: number[]; readyz: number[] } = { healthz: [], readyz: [] };
    const until = performance.now() + forMs;
    do {
      const health = await probe('/healthz');
      const ready = await probe('/readyz');
      expect(health.status, 'liveness holds while another process writes').to.equal(200);
      times.healthz.push(health.ms);
      times.readyz.push(ready.ms);
    } while (performance.now() < until);
    return times;
  }

  /**
   * While the lock is held, the probes answer about as fast as they did before it was taken (measured just before,
   * on the same daemon, so a busy machine slows both alike): the typical answer well under a quarter of the lock
   * wait, and none near it (before the fix, each took the whole busy timeout).
   */
  async function expectProbesFast(forMs: number, baseline: number): Promise<{ healthz: number; readyz: number }> {
    const times = await probeFor(forMs);
    for (const [name, ms] of Object.entries(times)) {
      expect(median(ms), `median /${name} answer (ms), ${baseline.toFixed(1)} ms unlocked`).to.be.below(
        Math.max(baseline + 100, BUSY_TIMEOUT_MS / 4),
      );
      expect(Math.max(...ms), `slowest /${name} answer (ms)`).to.be.below(BUSY_TIMEOUT_MS * 0.75);
    }
    return { healthz: Math.max(...times.healthz), readyz: Math.max(...times.readyz) };
  }

  /** The median probe answer with no lock held. */
  async function unlockedMedian(): Promise<number> {
    const times = await probeFor(200);
    return median([...times.healthz, ...times.readyz]);
  }

  it('keeps /healthz and /readyz answering as fast as without the lock, answers 503 without naming SQLite after busyTimeoutMs, and recovers', async () => {
    const baseline = await unlockedMedian();
    other.exec('BEGIN IMMEDIATE');
    const body = buildCallback();
    const sent = performance.now();
    const pending = postCallback(t.callbackUrl, body);
    const worst = await expectProbesFast(BUSY_TIMEOUT_MS / 2, baseline);
    const rejected = await pending;
    const waited = performance.now() - sent;
    expect(rejected.status).to.equal(503);
    expect(rejected.json).to.include({ responseCode: '503' });
    expect(rejected.text, 'the reply names no internal code').not.to.match(/sqlite/i);
    expect(waited, 'it waited for the lock first').to.be.at.least(BUSY_TIMEOUT_MS - 50);
    expect(
      t.logs.some((l) => l.includes('"outcome":"refused"') && l.includes('"code":"SQLITE_BUSY"')),
      'the log names the code',
    ).to.equal(true);

    // Readiness, an operator endpoint, says why, still without freezing.
    const ready = await probe('/readyz');
    expect(ready).to.deep.include({ status: 503, body: { status: 'unavailable', database: 'SQLITE_BUSY' } });
    expect(ready.ms).to.be.below(BUSY_TIMEOUT_MS * 0.75);
    await expectProbesFast(100, baseline);

    other.exec('ROLLBACK');
    await waitUntil(async () => (await probe('/readyz')).status === 200, 'readiness once the lock is released');
    expect((await postCallback(t.callbackUrl, body)).json?.['responseCode'], 'sent again').to.equal('1000');
    note(
      `slowest while locked: /healthz ${worst.healthz.toFixed(1)} ms, /readyz ${worst.readyz.toFixed(1)} ms; 503 after ${Math.round(waited)} ms`,
    );
  });

  it('acknowledges a callback whose lock is released within store.busyTimeoutMs, stored once', async () => {
    const baseline = await unlockedMedian();
    other.exec('BEGIN IMMEDIATE');
    const body = buildCallback();
    const pending = postCallback(t.callbackUrl, body);
    await expectProbesFast(BUSY_TIMEOUT_MS / 4, baseline);
    other.exec('ROLLBACK');
    const res = await pending;
    expect(res.json?.['responseCode']).to.equal('1000');
    expect(await t.daemon.store.findEventsByControlNumber(String(body['controlNumber']))).to.have.length(1);
    expect((await probe('/readyz')).status).to.equal(200);
  });
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
