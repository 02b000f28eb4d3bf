import { expect } from 'chai';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { buildCallback, dealTimeFromNow, postCallback } from '../../support/skypay';
import { ALL } from '../../support/store';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** Room for the test's own runtime between writing the dealTime and the daemon reading its clock. */
const MARGIN_MS = 5_000;

describe('skypay.maxAgeDays and skypay.maxFutureMinutes (production values: 30 days, 10 minutes)', () => {
  let t: TestDaemon;
  before(async () => {
    t = await startTestDaemon({ skypay: { maxAgeDays: 30, maxFutureMinutes: 10 } });
  });
  after(async () => {
    await t.stop();
  });

  /** The kept rejections whose (masked) body names this payout, as `skyrelay rejections` would find them. */
  async function rejectionsFor(
    controlNumber: string,
  ): Promise<{ status: number; reason: string; description: string }[]> {
    const store = t.daemon.store;
    const found = [];
    for (const listed of await store.listRejections({ limit: ALL })) {
      const kept = await store.getRejection(listed.id);
      if (kept?.body?.includes(controlNumber)) {
        found.push({ status: kept.status, reason: kept.reason, description: kept.description });
      }
    }
    return found;
  }

  const cases = [
    { name: 'just under 30 days old', offsetMs: -30 * DAY_MS + MARGIN_MS, accepted: true },
    {
      name: 'just over 30 days old',
      offsetMs: -30 * DAY_MS - MARGIN_MS,
      accepted: false,
      description: 'dealTime: is more than 30 days old (skypay.maxAgeDays)',
    },
    { name: 'just under 10 minutes ahead', offsetMs: 10 * MINUTE_MS - MARGIN_MS, accepted: true },
    {
      name: 'just over 10 minutes ahead',
      offsetMs: 10 * MINUTE_MS + MARGIN_MS,
      accepted: false,
      description: 'dealTime: is more than 10 minutes in the future (skypay.maxFutureMinutes)',
    },
  ];
  for (const c of cases) {
    it(`${c.accepted ? 'acknowledges' : 'refuses with 400, and keeps,'} a dealTime ${c.name}`, async () => {
      const body = buildCallback({ dealTime: dealTimeFromNow(c.offsetMs) });
      const res = await postCallback(t.callbackUrl, body);
      const controlNumber = String(body['controlNumber']);
      if (c.accepted) {
        expect(res.status, res.text).to.equal(200);
        expect(res.json?.['responseCode']).to.equal('1000');
        expect(await rejectionsFor(controlNumber)).to.deep.equal([]);
        return;
      }
      expect(res.status, res.text).to.equal(400);
      expect(res.json?.['responseCode']).to.equal('400');
      expect(res.json?.['responseDescription']).to.equal(c.description);
      const kept = [{ status: 400, reason: 'invalid', description: c.description }];
      expect(await rejectionsFor(controlNumber)).to.deep.equal(kept);
    });
  }
});

describe('deal-time limits are off by default', () => {
  it("still acknowledges the documentation's 2018 sample under config/default.json", async () => {
    const t = await startTestDaemon();
    try {
      expect(t.config.skypay.maxAgeDays).to.equal(undefined);
      expect(t.config.skypay.maxFutureMinutes).to.equal(undefined);
      const res = await postCallback(t.callbackUrl, buildCallback({ dealTime: '2018-08-07 11:58:33' }));
      expect(res.json?.['responseCode']).to.equal('1000');
    } finally {
      await t.stop();
    }
  });
});
