import fs from 'node:fs';
import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { floodPosts } from '../../support/flood';
import { SAMPLE_AUTH, buildCallback, postCallback } from '../../support/skypay';
import { note } from '../../support/notes';
import { ALL, withStore } from '../../support/store';
import type { Store } from '../../../src/store/store';
import type { RejectionDetail } from '../../../src/store/types';

/** A tenth of the full run docs/security.md quotes (10,000 x 100 KB grow the database by 0.2 MB). */
const FLOOD = Number(process.env['FLOOD_REQUESTS'] ?? 1_000);
const BODY_KB = 100;
/** The bound, 10 MB for 10,000 requests, scaled to the requests sent. */
const GROWTH_BOUND = (10 * 1024 * 1024 * FLOOD) / 10_000;

/** Every kept rejection with what was kept of it, as an operator investigating the flood would read them. */
async function keptRejections(store: Store): Promise<RejectionDetail[]> {
  const kept: RejectionDetail[] = [];
  for (const { id } of await store.listRejections({ limit: ALL })) {
    const row = await store.getRejection(id);
    if (row) kept.push(row);
  }
  return kept;
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
  /** After t.stop(): the file the daemon left, opened the way the CLI opens it. */
  const rows = (): Promise<RejectionDetail[]> => withStore(t.dbPath, keptRejections);

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
      const kept = await rows();
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
        expect(row.bodyBytes).to.equal(body.length);
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
    const kept = await rows();
    expect(kept.reduce((n, r) => n + 1 + r.suppressed, 0)).to.equal(60);
    // What `skyrelay rejections` and GET /admin/rejections list: 20 rows, the last kept one carrying the other 40.
    expect(kept).to.have.length(20);
    expect(
      kept
        .map((r) => r.suppressed)
        .sort((a, b) => b - a)
        .slice(0, 2),
    ).to.deep.equal([40, 0]);
  });

  it('keeps 256 bytes of a 15 KB Content-Type header and notes its length', async () => {
    const contentType = `text/x-${'a'.repeat(15_000)}`;
    const res = await postCallback(t.callbackUrl, buildCallback(), { contentType });
    expect(res.status).to.equal(415);
    const kept = await keptRejections(t.daemon.store);
    expect(kept).to.have.length(1);
    expect(kept[0]?.contentType).to.equal(contentType.slice(0, 256));
    expect(kept[0]?.contentTypeBytes).to.equal(contentType.length);
  });
});
