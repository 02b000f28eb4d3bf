/**
 * The reconciliation part of the Store contract (issue 10 §3), run against every implementation: what SkyPay's
 * status query said of a payout is on its timeline, a repeated answer is counted on its row, and a payout asked
 * recently is not due again.
 */
import { expect } from 'chai';
import { PAY_STATUSES, type PayType, type PayoutEvent, type RelayEvent } from '../../../src/event';
import { createPayoutPolicy } from '../../../src/payouts/policy';
import type { Store } from '../../../src/store/store';
import type { NewDelivery } from '../../../src/delivery/types';
import type { NewReconciliation } from '../../../src/payouts/types';
import { buildPayoutEvent } from '../../support/fixtures';
import { STORE_FACTORIES, type StoreHarness } from './factories';

let serial = 0;
const nextControlNumber = (): string => `SKR${Date.now().toString(36)}${String(++serial).padStart(6, '0')}`;
const plan = (_event: RelayEvent): NewDelivery[] => [];
const policy = createPayoutPolicy(plan);

function status(partner: string, controlNumber: string, payType: PayType, receivedAt: Date): PayoutEvent {
  return buildPayoutEvent({
    id: `evt_r${String(++serial).padStart(10, '0')}`,
    partner,
    controlNumber,
    payType,
    status: PAY_STATUSES[payType],
    dealTime: '2026-11-27 10:00:00',
    receivedAt: receivedAt.toISOString(),
    // A plain callback's content, as the status query gives it.
    action: 'payoutQueuePayout',
    failDescription: null,
    referenceNumber: null,
    extra: {},
  });
}

function result(
  controlNumber: string,
  checkedMs: number,
  overrides: Partial<NewReconciliation> = {},
): NewReconciliation {
  return {
    partner: 'ACME',
    controlNumber,
    checkedMs,
    status: 2,
    statusDesc: 'Uploaded',
    outcome: 'open',
    detail: 'still open at SkyPay (Uploaded); skyrelay holds uploaded',
    eventId: null,
    ...overrides,
  };
}

for (const factory of STORE_FACTORIES) {
  factory.describe(`Store contract, reconciliations: ${factory.name}`, function () {
    let harness: StoreHarness;
    let a: Store;
    let b: Store;

    beforeEach(async () => {
      harness = await factory.create();
      a = await harness.open();
      b = await harness.open();
    });

    afterEach(async () => {
      await harness?.dispose();
    });

    it("puts results on the payout's timeline; the same answer again is counted on its row, a new one adds a row", async () => {
      const cn = nextControlNumber();
      await a.savePayoutEvent(status('ACME', cn, 1, new Date(Date.now() - 3_600_000)), policy);
      const t0 = Date.now() - 60_000;
      await a.recordReconciliations([result(cn, t0)]);
      await b.recordReconciliations([result(cn, t0 + 1000)]);
      await a.recordReconciliations([
        result(cn, t0 + 2000, { status: 10, statusDesc: 'Inquiry Success', outcome: 'record', detail: 'recorded' }),
      ]);
      await b.recordReconciliations([result(cn, t0 + 3000)]);
      const [detail] = await b.getPayouts(cn);
      expect(detail?.reconciliations).to.deep.equal([
        {
          firstCheckedAt: new Date(t0).toISOString(),
          lastCheckedAt: new Date(t0 + 1000).toISOString(),
          checks: 2,
          status: 2,
          statusDesc: 'Uploaded',
          outcome: 'open',
          detail: 'still open at SkyPay (Uploaded); skyrelay holds uploaded',
          eventId: null,
        },
        {
          firstCheckedAt: new Date(t0 + 2000).toISOString(),
          lastCheckedAt: new Date(t0 + 2000).toISOString(),
          checks: 1,
          status: 10,
          statusDesc: 'Inquiry Success',
          outcome: 'record',
          detail: 'recorded',
          eventId: null,
        },
        {
          firstCheckedAt: new Date(t0 + 3000).toISOString(),
          lastCheckedAt: new Date(t0 + 3000).toISOString(),
          checks: 1,
          status: 2,
          statusDesc: 'Uploaded',
          outcome: 'open',
          detail: 'still open at SkyPay (Uploaded); skyrelay holds uploaded',
          eventId: null,
        },
      ]);
    });

    it('keeps a missing answer (no status) and an event id; a payout never asked has no results', async () => {
      const [asked, never] = [nextControlNumber(), nextControlNumber()];
      await a.savePayoutEvent(status('ACME', asked, 1, new Date()), policy);
      await a.savePayoutEvent(status('ACME', never, 1, new Date()), policy);
      await a.recordReconciliations([
        result(asked, Date.now(), { status: null, statusDesc: '', outcome: 'missing', detail: 'left out' }),
        result(asked, Date.now(), { status: 1, outcome: 'created', detail: 'made', eventId: 'evt_x' }),
      ]);
      const [detail] = await b.getPayouts(asked);
      expect(detail?.reconciliations.map((r) => [r.status, r.outcome, r.eventId])).to.deep.equal([
        [null, 'missing', null],
        [1, 'created', 'evt_x'],
      ]);
      const [other] = await b.getPayouts(never);
      expect(other?.reconciliations).to.deep.equal([]);
    });

    it("lists one partner's open payouts, leaving out those asked about since an instant", async () => {
      const hourAgo = new Date(Date.now() - 3_600_000);
      const [c1, c2, c3] = [nextControlNumber(), nextControlNumber(), nextControlNumber()];
      await a.savePayoutEvent(status('ACME', c1, 1, new Date(hourAgo.getTime() - 2000)), policy);
      await a.savePayoutEvent(status('ACME', c2, 1, new Date(hourAgo.getTime() - 1000)), policy);
      await a.savePayoutEvent(status('OTHER', c3, 1, hourAgo), policy);
      const base = { firstSeenBeforeMs: Date.now(), limit: 10 };
      expect((await b.listOpenPayouts({ ...base, partner: 'ACME' })).map((p) => p.controlNumber)).to.deep.equal([
        c1,
        c2,
      ]);
      const checked = Date.now() - 10_000;
      await a.recordReconciliations([result(c1, checked)]);
      const due = await b.listOpenPayouts({ ...base, partner: 'ACME', notCheckedSinceMs: checked });
      expect(due.map((p) => p.controlNumber)).to.deep.equal([c2]);
      const later = await b.listOpenPayouts({ ...base, partner: 'ACME', notCheckedSinceMs: checked + 1 });
      expect(later.map((p) => p.controlNumber)).to.deep.equal([c1, c2]);
      expect((await b.listOpenPayouts(base)).map((p) => p.controlNumber)).to.deep.equal([c1, c2, c3]);
    });

    it("SkyPay's late callback for an event reconciliation created is a duplicate that completes it, not a conflict", async () => {
      const cn = nextControlNumber();
      await a.savePayoutEvent(status('ACME', cn, 1, new Date()), policy);
      const created = status('ACME', cn, 4, new Date());
      await a.savePayoutEvent({ ...created, origin: 'reconciliation', failDescription: null }, policy);
      const real = { ...status('ACME', cn, 4, new Date()), failDescription: 'account closed' };
      const late = await b.savePayoutEvent(real, policy);
      expect(late).to.deep.include({ eventId: created.id, duplicate: true, duplicates: 1 });
      expect(late.conflict).to.equal(undefined);
      const again = await a.savePayoutEvent({ ...real, id: `evt_r${String(++serial).padStart(10, '0')}` }, policy);
      expect(again).to.deep.include({ duplicate: true, duplicates: 2 });
      expect(again.conflict).to.equal(undefined);
      const stored = await b.getEvent(created.id);
      expect(stored?.event).to.include({ origin: 'reconciliation', failDescription: 'account closed' });
      expect(stored?.conflicts).to.deep.equal([]);
      // A third, different content is a conflicting copy as for any callback.
      const odd = await b.savePayoutEvent(
        { ...real, id: `evt_r${String(++serial).padStart(10, '0')}`, failDescription: 'other' },
        policy,
      );
      expect(odd.conflict?.differs).to.deep.equal(['failDescription']);
    });

    it('two instances recording the same answer at once: both counted on one row', async () => {
      const cn = nextControlNumber();
      await a.savePayoutEvent(status('ACME', cn, 1, new Date()), policy);
      const t = Date.now();
      await a.recordReconciliations([result(cn, t)]);
      await Promise.all([a.recordReconciliations([result(cn, t + 1)]), b.recordReconciliations([result(cn, t + 2)])]);
      const [detail] = await a.getPayouts(cn);
      expect(detail?.reconciliations.map((r) => [r.checks, r.lastCheckedAt])).to.deep.equal([
        [3, new Date(t + 2).toISOString()],
      ]);
    });
  });
}
