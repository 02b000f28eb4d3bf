import { expect } from 'chai';
import fs from 'node:fs';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { floodPosts } from '../../support/flood';
import { note } from '../../support/notes';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';
import { buildCallback } from '../../support/skypay';
import { withStore } from '../../support/store';
import type { Store } from '../../../src/store/store';
import type { RejectionView } from '../../../src/store/types';

/** The attack sent 10,000 from 1,000 addresses (README quotes that run); the suite sends a fifth of it. */
const FLOOD = Number(process.env['FLOOD_REQUESTS'] ?? 2_000);
const BODY_KB = 100;
/** The bound for the whole attack; rows are capped per minute, so it does not scale with the requests sent. */
const GROWTH_BOUND = 2 * 1024 * 1024;
const TOTAL_PER_MINUTE = 100;
const PER_SOURCE = 20;

/** 1,000 loopback addresses, each in a /24 of its own (127.1.0.1 ... 127.4.249.1): 1,000 sources to anyone. */
const ADDRESSES = Array.from({ length: 1_000 }, (_, i) => `127.${1 + Math.floor(i / 250)}.${i % 250}.1`);

const wrongKeyBody = (kb: number): Buffer =>
  Buffer.from(JSON.stringify(buildCallback({ authentication: 'WRONG-KEY-SOURCES', failDescription: 'x'.repeat(kb) })));

const rejections = (store: Store): Promise<RejectionView[]> => store.listRejections({ limit: 1_000_000 });
const counted = (rows: readonly RejectionView[]): number => rows.reduce((n, r) => n + 1 + r.suppressed, 0);
const fileSize = (file: string): number => (fs.existsSync(file) ? fs.statSync(file).size : 0);

/**
 * The rows kept of refused callbacks were capped per source address, and the address could be chosen: 10,000
 * wrong-key 100 KB callbacks from 1,000 loopback addresses kept 10,000 rows (40.6 MB), and behind
 * server.trustProxy one client rotating the left-most X-Forwarded-For kept 5,065 and forged remote_address. Now
 * sources are address blocks (/24, /64), all of them together keep at most store.maxRejectionsPerMinuteTotal rows
 * a minute (shared by every process on the database), the rest are counted, and behind a proxy the address is
 * the one the proxy saw.
 */
function suite(name: string, storeConfig: () => Record<string, unknown>): void {
  describe(`refused callbacks from many addresses (${name}, real daemon, real HTTP)`, function () {
    this.timeout(180_000);
    let t: TestDaemon;
    afterEach(async () => {
      await t?.stop();
    });

    const start = (server: Record<string, unknown> = {}) =>
      startTestDaemon({ server, store: storeConfig(), metrics: { publishIntervalMs: 100 } });

    it(`keeps at most ${TOTAL_PER_MINUTE} rows a minute for ${FLOOD} x ${BODY_KB} KB from 1,000 addresses, counting every one`, async () => {
      t = await start();
      const dbBytes = (): number => fileSize(t.dbPath) + fileSize(`${t.dbPath}-wal`);
      const before = dbBytes();
      const startedMinute = Math.floor(Date.now() / 60_000);
      const result = await floodPosts(t.callbackUrl, {
        count: FLOOD,
        concurrency: 8,
        body: wrongKeyBody(BODY_KB * 1024),
        localAddresses: ADDRESSES,
      });
      const minutes = Math.floor(Date.now() / 60_000) - startedMinute + 1;
      expect([...result.statuses]).to.deep.equal([[401, FLOOD]]);
      // The counts of rejections not kept are written every few seconds and on stop.
      await t.stop();
      const rows = await readAfterStop(t, storeConfig());
      const growth = dbBytes() - before;
      note(
        `${name}: ${FLOOD} requests from 1,000 addresses in ${result.ms} ms (${minutes} minute(s)); ` +
          `${rows.length} rows kept` +
          (name === 'SQLite' ? `; db + wal grew ${(growth / 1024).toFixed(0)} KB` : ''),
      );
      expect(rows.length).to.be.within(TOTAL_PER_MINUTE, TOTAL_PER_MINUTE * minutes);
      expect(counted(rows), 'every rejection is a row or counted on one').to.equal(FLOOD);
      expect(new Set(rows.map((r) => r.remoteAddress)).size, 'rows from many sources').to.be.above(50);
      if (name === 'SQLite') expect(growth).to.be.below(GROWTH_BOUND);
    });

    it(`keeps at most ${TOTAL_PER_MINUTE} rows a minute between two daemons on one database`, async () => {
      t = await start();
      const other = await startTestDaemon({ store: storeConfig() }, { dbPath: t.dbPath });
      const startedMinute = Math.floor(Date.now() / 60_000);
      try {
        const body = wrongKeyBody(1024);
        const results = await Promise.all(
          [t, other].map((d, i) =>
            floodPosts(d.callbackUrl, {
              count: 300,
              concurrency: 4,
              body,
              localAddresses: ADDRESSES.slice(i * 500, i * 500 + 300),
            }),
          ),
        );
        for (const r of results) expect([...r.statuses]).to.deep.equal([[401, 300]]);
      } finally {
        await other.stop();
      }
      const minutes = Math.floor(Date.now() / 60_000) - startedMinute + 1;
      await t.stop();
      const rows = await readAfterStop(t, storeConfig());
      expect(rows.length).to.be.within(TOTAL_PER_MINUTE, TOTAL_PER_MINUTE * minutes);
      expect(counted(rows)).to.equal(600);
    });

    it(`keeps ${PER_SOURCE} rows a minute for one /24, whichever of its addresses sends`, async () => {
      t = await start();
      const block = Array.from({ length: 200 }, (_, i) => `127.9.9.${i + 1}`);
      const result = await floodPosts(t.callbackUrl, {
        count: 200,
        concurrency: 4,
        body: wrongKeyBody(1024),
        localAddresses: block,
      });
      expect([...result.statuses]).to.deep.equal([[401, 200]]);
      await t.stop();
      const rows = await readAfterStop(t, storeConfig());
      expect(rows).to.have.length(PER_SOURCE);
      expect(counted(rows)).to.equal(200);
    });

    it('behind a proxy takes the address the proxy saw, never the client-written left-most one', async () => {
      t = await start({ trustProxy: true });
      const proxySaw = '198.51.100.7';
      const result = await floodPosts(t.callbackUrl, {
        count: 300,
        concurrency: 4,
        body: wrongKeyBody(1024),
        // What one client rotating its own X-Forwarded-For looks like after the proxy appended what it saw.
        headers: (n) => ({ 'x-forwarded-for': `10.${n % 250}.${Math.floor(n / 250)}.9, ${proxySaw}` }),
      });
      expect([...result.statuses]).to.deep.equal([[401, 300]]);
      await t.stop();
      const rows = await readAfterStop(t, storeConfig());
      expect([...new Set(rows.map((r) => r.remoteAddress))]).to.deep.equal([proxySaw]);
      expect(rows).to.have.length(PER_SOURCE);
      expect(counted(rows)).to.equal(300);
    });

    it('with server.proxyHops 2 takes the entry two from the right', async () => {
      t = await start({ trustProxy: true, proxyHops: 2 });
      const res = await fetch(t.callbackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '6.6.6.6, 203.0.113.5, 10.0.0.2' },
        body: wrongKeyBody(16),
      });
      expect(res.status).to.equal(401);
      const [row] = await rejections(t.daemon.store);
      expect(row?.remoteAddress).to.equal('203.0.113.5');
    });
  });
}

/** The rows once the daemon has stopped (its last counts written), read as the CLI would. */
function readAfterStop(t: TestDaemon, config: Record<string, unknown>): Promise<RejectionView[]> {
  const url = config['url'];
  return withStore(typeof url === 'string' ? { url } : t.dbPath, rejections);
}

suite('SQLite', () => ({}));

describePostgres('on PostgreSQL', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db?.drop();
  });
  suite('PostgreSQL', () => ({ url: db.url }));
});
