import { expect } from 'chai';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { rawRequest } from '../../support/raw-http';
import { openSqliteFile } from '../../support/sqlite';
import { buildCallback, postCallback } from '../../support/skypay';

const TOKEN = 'metrics-scrape-token-0123456789ab';
const ADMIN_TOKEN = 'admin-token-for-the-metrics-test-01';

const digest = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('GET /metrics: read-only scrapes, metrics.token and metrics.path', function () {
  this.timeout(20_000);

  it('200 scrapes leave the database and its -wal file byte for byte unchanged', async () => {
    // Nothing else may write meanwhile: no destinations, and every periodic job far away.
    const t = await startTestDaemon({
      metrics: { publishIntervalMs: 3_600_000 },
      delivery: { pollIntervalMs: 3_600_000 },
      store: { retentionIntervalMs: 3_600_000 },
    });
    try {
      // Counts this process has not published yet: a scrape that published them would write.
      await postCallback(t.callbackUrl, buildCallback({ payType: '2' }));
      await postCallback(t.callbackUrl, buildCallback({ authentication: 'WRONG' }));
      // The publication at start has committed once this process shows in a scrape.
      const scrape = async () => (await fetch(`${t.baseUrl}/metrics`)).text();
      const published = async () => /^skyrelay_metrics_processes 1$/m.test(await scrape());
      await waitUntil(published, 'the first publication');
      const files = [t.dbPath, `${t.dbPath}-wal`];
      // The checkpoint thread copies what was committed into the database file on its own: once all of it is
      // copied (done here at once, from a connection of the test's), what changes after is the scrapes' doing.
      const file = openSqliteFile(t.dbPath);
      try {
        await waitUntil(() => {
          const [c] = file.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
          return c !== undefined && c.busy === 0 && c.log === c.checkpointed;
        }, 'every commit copied into the database file');
      } finally {
        file.close();
      }
      const before = files.map(digest);
      for (let i = 0; i < 20; i++) {
        const answers = await Promise.all(Array.from({ length: 10 }, () => fetch(`${t.baseUrl}/metrics`)));
        for (const res of answers) {
          expect(res.status).to.equal(200);
          await res.text();
        }
      }
      expect(files.map(digest)).to.deep.equal(before);
    } finally {
      await t.stop();
    }
  });

  describe('with metrics.token and a custom metrics.path', () => {
    let t: TestDaemon;
    const scrape = (target: string, token: string | null) =>
      rawRequest(t.baseUrl, 'GET', target, token === null ? {} : { authorization: `Bearer ${token}` });

    before(async () => {
      t = await startTestDaemon({ metrics: { path: '/internal/prom', token: TOKEN }, admin: { token: ADMIN_TOKEN } });
    });
    after(async () => {
      await t?.stop();
    });

    it('answers 401 without the token (or with a wrong one) and the metrics with it', async () => {
      for (const token of [null, 'wrong-token-wrong-token-000000', `${TOKEN}x`]) {
        const res = await scrape('/internal/prom', token);
        expect(res.status).to.equal(401);
        expect(res.headers['www-authenticate']).to.equal('Bearer realm="skyrelay metrics"');
        expect(res.body).not.to.contain('skyrelay_').and.not.to.contain(TOKEN);
      }
      const ok = await scrape('/internal/prom', TOKEN);
      expect(ok.status).to.equal(200);
      expect(ok.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
      expect(ok.body).to.match(/^skyrelay_metrics_processes \d+$/m);
      expect(t.logs.join('')).not.to.contain(TOKEN);
    });

    it('guards every spelling of the path: 401 without the token, 404 with it; serves only the exact one', async () => {
      const spellings = [
        '/INTERNAL/prom',
        '/internal/PROM',
        '/internal/prom/',
        '//internal/prom',
        '/internal//prom',
        '/%69nternal/prom',
        '/internal/./prom',
        '/x/../internal/prom',
        '/internal/prom/x',
      ];
      for (const target of spellings) {
        expect((await scrape(target, null)).status, target).to.equal(401);
        expect((await scrape(target, TOKEN)).status, `${target} with the token`).to.equal(404);
      }
      // A separator inside a segment is refused before the guard, token or not.
      for (const token of [null, TOKEN]) expect((await scrape('/internal%2Fprom', token)).status).to.equal(400);
    });

    it('serves nothing at /metrics, and leaves the other routes to their own checks', async () => {
      expect((await scrape('/metrics', TOKEN)).status).to.equal(404);
      expect((await scrape('/healthz', null)).status).to.equal(200);
      expect((await scrape('/admin/events', TOKEN)).status).to.equal(401);
      expect((await scrape('/admin/events', ADMIN_TOKEN)).status).to.equal(200);
    });
  });
});
