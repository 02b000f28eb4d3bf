import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { buildCallback, postCallback } from '../../support/skypay';
import { openSqliteFile, type SqliteHandle } from '../../support/sqlite';
import { ALL, withStore } from '../../support/store';

const DAY = 86_400_000;

describe('retention job in the running daemon', function () {
  this.timeout(20_000);
  let t: TestDaemon;
  /** Only for back-dated rows with finished or leased deliveries: the interface has no verb for them. */
  let db: SqliteHandle;

  before(async () => {
    t = await startTestDaemon({
      store: { retentionDays: 7, rejectionRetentionDays: 2, retentionIntervalMs: 150, retentionBatchSize: 2 },
    });
    db = openSqliteFile(t.dbPath);
  });
  after(async () => {
    db.close();
    await t.stop();
  });

  function addOldEvent(id: string, ageDays: number, state?: string): void {
    const at = Date.now() - ageDays * DAY;
    db.prepare(`INSERT INTO events (id, source, type, body, received_ms) VALUES (?, 'skypay', 'payout', '{}', ?)`).run(
      id,
      at,
    );
    if (!state) return;
    // Far-future retry and lease, so the worker leaves these alone during the test.
    db.prepare(
      `INSERT INTO deliveries (id, event_id, destination, rules, state, next_attempt_ms, lease_until_ms, lease_owner,
      created_ms, updated_ms) VALUES (?, ?, 'gone', '[]', ?, ?, ?, ?, ?, ?)`,
    ).run(
      `${id}-d`,
      id,
      state,
      at + 400 * DAY,
      state === 'inflight' ? Date.now() + DAY : null,
      state === 'inflight' ? 'someone' : null,
      at,
      at,
    );
    db.prepare(
      `INSERT INTO attempts (delivery_id, attempt, started_ms, duration_ms, outcome) VALUES (?, 1, ?, 3, 'retry')`,
    ).run(`${id}-d`, at);
  }

  it('deletes expired events with finished deliveries in small batches, keeps unfinished ones, and keeps taking callbacks', async () => {
    for (let i = 0; i < 5; i++) addOldEvent(`evt_old_done_${i}`, 8, i % 2 ? 'dead' : 'delivered');
    addOldEvent('evt_old_pending', 30, 'pending');
    addOldEvent('evt_old_inflight', 30, 'inflight');
    addOldEvent('evt_recent', 6, 'delivered');
    const insertRejection =
      db.prepare(`INSERT INTO rejections (id, received_ms, method, path, status, reason, description)
      VALUES (?, ?, 'POST', '/callbacks/skypay', 401, 'unauthenticated', 'wrong key')`);
    insertRejection.run('rej_old', Date.now() - 3 * DAY);
    insertRejection.run('rej_recent', Date.now() - DAY);

    const eventIds = () => withStore(t.dbPath, async (s) => (await s.listEvents({ limit: ALL })).map((e) => e.id));
    const rejectionIds = () =>
      withStore(t.dbPath, async (s) => (await s.listRejections({ limit: ALL })).map((r) => r.id));
    const oldLeft = async () => (await eventIds()).filter((id) => id.startsWith('evt_old_done_')).length;
    const fresh = buildCallback();
    expect((await postCallback(t.callbackUrl, fresh)).json?.['responseCode']).to.equal('1000');
    await waitUntil(async () => (await oldLeft()) === 0, 'the old finished events to be pruned', 5000);

    const ids = (await withStore(t.dbPath, (s) => s.listEvents({ limit: ALL })))
      .filter((e) => e.controlNumber === null)
      .map((e) => e.id)
      .sort();
    expect(ids).to.deep.equal(['evt_old_inflight', 'evt_old_pending', 'evt_recent']);
    // Their deliveries and attempts went with them (orphans would not show through the interface): the job's own
    // counts, summed over its runs, name exactly the five deliveries and five attempts the fixtures gave them.
    const total = (key: string): number =>
      t.logs
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l['msg'] === 'retention pruned old rows')
        .reduce((n, l) => n + Number(l[key] ?? 0), 0);
    // The run that took the last of them logs just after its commit.
    await waitUntil(() => total('events') >= 5, 'the job to report what it pruned');
    expect([total('events'), total('deliveries'), total('attempts')]).to.deep.equal([5, 5, 5]);
    // The unfinished ones keep theirs.
    const kept = await withStore(t.dbPath, async (s) => [
      await s.getEvent('evt_old_pending'),
      await s.getEvent('evt_old_inflight'),
    ]);
    expect(kept.map((e) => e?.deliveries.map((d) => [d.state, d.attemptLog.length]))).to.deep.equal([
      [['pending', 1]],
      [['inflight', 1]],
    ]);
    expect(
      await withStore(t.dbPath, (s) => s.findEventsByControlNumber(String(fresh['controlNumber']))),
    ).to.have.length(1);
    await waitUntil(async () => !(await rejectionIds()).includes('rej_old'), 'the old rejection to go');
    expect(await rejectionIds()).to.deep.equal(['rej_recent']);
    expect(t.logs.some((l) => l.includes('retention pruned old rows'))).to.equal(true);
  });
});
