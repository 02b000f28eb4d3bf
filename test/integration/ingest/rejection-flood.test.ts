import fs from 'node:fs';
import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { floodPosts } from '../../support/flood';
import { SAMPLE_AUTH, buildCallback, postCallback } from '../../support/skypay';
import { note } from '../../support/notes';
import { openSqliteStore, openSqliteFile } from '../../support/sqlite';

/** 10,000 x 100 KB grew the database by 168 MB before; README quotes the full run. This is a tenth of it. */
const FLOOD = Number(process.env['FLOOD_REQUESTS'] ?? 1_000);
const BODY_KB = 100;
/** The bound, 10 MB for 10,000 requests, scaled to the requests sent. */
const GROWTH_BOUND = (10 * 1024 * 1024 * FLOOD) / 10_000;

interface Row {
  reason: string;
  body: string | null;
  body_bytes: number | null;
  content_type: string | null;
  content_type_bytes: number | null;
  suppressed: number;
}

const fileSize = (file: string): number => (fs.existsSync(file) ? fs.statSync(file).size : 0);

describe('a flood of rejected callbacks (real daemon, real HTTP)', function () {
  this.timeout(30_000);
  let t: TestDaemon;
  // Metrics are published on a timer (scrapes only read): a short one keeps the metrics test quick.
  beforeEach(async () => {
    t = await startTestDaemon({ metrics: { publishIntervalMs: 100 } });
  });
  afterEach(async () => {
    await t.stop();
  });

  const dbBytes = (): number => fileSize(t.dbPath) + fileSize(`${t.dbPath}-wal`);
  function rows(): Row[] {
    const db = openSqliteFile(t.dbPath, { readonly: true });
    try {
      return db
        .prepare('SELECT reason, body, body_bytes, content_type, content_type_bytes, suppressed FROM rejections')
        .all() as Row[];
    } finally {
      db.close();
    }
  }

  it(
    `keeps 20 rows a minute per reason and address, counts the rest, and grows under ${GROWTH_BOUND / 1e6} MB ` +
      `for ${FLOOD} x ${BODY_KB} KB wrong-key bodies`,
    async () => {
      const body = Buffer.from(
        JSON.stringify(
          buildCallback({
            authentication: 'WRONG-KEY-FLOOD-0000',
            failDescription: `${SAMPLE_AUTH} ${'x'.repeat(BODY_KB * 1024)}`,
          }),
        ),
      );
      // Start from a migrated, checkpointed file, so growth is what the flood added.
      const before = dbBytes();
      const result = await floodPosts(t.callbackUrl, { count: FLOOD, concurrency: 8, body });
      expect([...result.statuses]).to.deep.equal([[401, FLOOD]]);
      // The counts of rejections not kept are written every few seconds and on stop.
      await t.stop();
      const growth = dbBytes() - before;
      const kept = rows();
      note(
        `${FLOOD} requests in ${result.ms} ms; db + wal grew ${(growth / 1024).toFixed(0)} KB; ` +
          `${kept.length} rows kept`,
      );
      expect(growth).to.be.below(GROWTH_BOUND);
      // One minute window (two if the flood straddled its end): 20 rows each, the rest counted on the last one.
      expect(kept.length).to.be.within(20, 40);
      expect(kept.length + kept.reduce((n, r) => n + r.suppressed, 0)).to.equal(FLOOD);
      for (const row of kept) {
        expect(row.reason).to.equal('unauthenticated');
        expect(Buffer.byteLength(row.body ?? '')).to.be.at.most(2048);
        expect(row.body_bytes).to.equal(body.length);
        expect(row.body).not.to.contain(SAMPLE_AUTH).and.not.to.contain('WRONG-KEY-FLOOD-0000');
      }
    },
  );

  it('counts every rejection in /metrics, kept or not', async () => {
    const body = Buffer.from(JSON.stringify(buildCallback({ authentication: 'WRONG-KEY-FLOOD-0001' })));
    await floodPosts(t.callbackUrl, { count: 60, concurrency: 4, body });
    const counted = /skyrelay_callbacks_total\{[^}]*outcome="refused"[^}]*reason="unauthenticated"[^}]*\} 60\n/;
    const scrape = async (): Promise<string> => (await fetch(`${t.baseUrl}/metrics`)).text();
    await waitUntil(async () => counted.test(await scrape()), '/metrics to count all 60', 3_000);
    await t.stop();
    expect(rows().reduce((n, r) => n + 1 + r.suppressed, 0)).to.equal(60);
    // What `skyrelay rejections` and GET /admin/rejections list: 20 rows, the last kept one carrying the other 40.
    const store = openSqliteStore(t.dbPath);
    try {
      const listed = await store.listRejections({ limit: 100 });
      expect(listed).to.have.length(20);
      expect(
        listed
          .map((r) => r.suppressed)
          .sort((a, b) => b - a)
          .slice(0, 2),
      ).to.deep.equal([40, 0]);
    } finally {
      await store.close();
    }
  });

  it('keeps 256 bytes of a 15 KB Content-Type header and notes its length', async () => {
    const contentType = `text/x-${'a'.repeat(15_000)}`;
    const res = await postCallback(t.callbackUrl, buildCallback(), { contentType });
    expect(res.status).to.equal(415);
    const [row] = rows();
    expect(row?.content_type).to.equal(contentType.slice(0, 256));
    expect(row?.content_type_bytes).to.equal(contentType.length);
  });
});
