import { expect } from 'chai';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { buildCallback, postCallback } from '../../support/skypay';
import { sqliteHandle } from '../../support/sqlite';

const TOKEN = 'admin-store-errors-token-0123456789';

/**
 * The store throws its own errors and knows no HTTP; the ingest path and the admin API each map a store that
 * cannot commit to 503 themselves. Seen here through the running daemon, with the database made read-only.
 */
describe("the store's errors as HTTP answers", () => {
  let t: TestDaemon;
  before(async () => {
    t = await startTestDaemon({ admin: { token: TOKEN } });
  });
  after(async () => {
    await t.stop();
  });

  const admin = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${t.baseUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('answers a callback and an admin replay with 503 while nothing can be written, and reads still work', async () => {
    sqliteHandle(t.daemon.store).pragma('query_only = ON');
    try {
      const callback = await postCallback(t.callbackUrl, buildCallback());
      expect(callback.status).to.equal(503);
      const replay = await admin('/admin/deliveries/dlv_missing/replay', { method: 'POST' });
      expect(replay).to.deep.equal({ status: 503, body: { error: 'store unavailable; send again later' } });
      // The database's own code is for operators: in the log, never in an answer.
      expect(JSON.stringify(replay.body)).not.to.contain('SQLITE');
      expect(t.logs.some((l) => l.includes('"code":"SQLITE_READONLY"'))).to.equal(true);
      expect((await admin('/admin/events')).status).to.equal(200);
    } finally {
      sqliteHandle(t.daemon.store).pragma('query_only = OFF');
    }
    expect((await postCallback(t.callbackUrl, buildCallback())).status).to.equal(200);
    expect((await admin('/admin/deliveries/dlv_missing/replay', { method: 'POST' })).status).to.equal(404);
  });
});
