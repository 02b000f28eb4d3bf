/**
 * The payout part of the Store contract (issue 10), run against every implementation: judged in the event's
 * transaction, so two instances (processes, hosts) storing callbacks of one payout at once never lose an update.
 */
import { expect } from 'chai';
import type { PayType, PayoutEvent, RelayEvent, SystemEvent, TransitionKind } from '../../../src/event';
import { PAY_STATUSES } from '../../../src/event';
import { buildStuckEvent } from '../../../src/payouts/events';
import { createPayoutPolicy } from '../../../src/payouts/policy';
import type { Store } from '../../../src/store/store';
import type { NewDelivery } from '../../../src/delivery/types';
import type { StuckCutoff } from '../../../src/payouts/types';
import { OPEN_STATES } from '../../../src/payouts/stuck-after';
import { buildPayoutEvent } from '../../support/fixtures';
import { STORE_FACTORIES, type StoreHarness } from './factories';
import { AGE_PROBE_ROWS } from '../../../src/store/payout-filters';

let serial = 0;
const nextControlNumber = (): string => `SKP${Date.now().toString(36)}${String(++serial).padStart(6, '0')}`;

/** Routes skyrelay's events to `ops` and payouts to `ledger`, as a config's rules would. */
const plan = (event: RelayEvent): NewDelivery[] => [
  {
    id: `dlv_${String(++serial).padStart(10, '0')}`,
    destination: event.source === 'skypay' ? 'ledger' : 'ops',
    rules: ['r'],
  },
];
const policy = createPayoutPolicy(plan);

function status(
  controlNumber: string,
  payType: PayType,
  dealTime: string,
  overrides: Partial<PayoutEvent> = {},
  receivedAt = new Date(),
): PayoutEvent {
  return buildPayoutEvent({
    id: `evt_${String(++serial).padStart(10, '0')}`,
    partner: 'ACME',
    controlNumber,
    payType,
    status: PAY_STATUSES[payType],
    dealTime,
    failDescription: payType === 4 ? 'closed' : null,
    receivedAt: receivedAt.toISOString(),
    ...overrides,
  });
}

const kindsOf = async (store: Store, cn: string): Promise<(TransitionKind | undefined)[]> => {
  const [detail] = await store.getPayouts(cn);
  return (detail?.events ?? []).map((e) => (e.event as PayoutEvent).transition?.kind);
};

for (const factory of STORE_FACTORIES) {
  factory.describe(`Store contract, payouts: ${factory.name}`, function () {
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

    it('keeps a payout through its lifecycle, with the transition on each stored event', async () => {
      const cn = nextControlNumber();
      const first = await a.savePayoutEvent(status(cn, 1, '2026-11-27 10:00:00'), policy);
      expect(first.transition).to.deep.equal({ from: null, to: 'uploaded', kind: 'first' });
      expect(first.raised).to.deep.equal([]);
      const paid = await b.savePayoutEvent(status(cn, 2, '2026-11-27 11:00:00'), policy);
      expect(paid.transition).to.deep.equal({ from: 'uploaded', to: 'paid', kind: 'forward' });
      const late = await a.savePayoutEvent(status(cn, 5, '2026-11-27 10:30:00'), policy);
      expect(late.transition).to.deep.equal({ from: 'paid', to: 'paid', kind: 'late' });

      const [detail, ...others] = await b.getPayouts(cn);
      expect(others).to.have.length(0);
      expect(detail?.payout).to.include({
        controlNumber: cn,
        partner: 'ACME',
        state: 'paid',
        final: true,
        anomalies: 0,
      });
      expect(detail?.payout.lastDealTime).to.equal('2026-11-27 11:00:00');
      expect(await kindsOf(b, cn)).to.deep.equal(['first', 'forward', 'late']);
      // The stored body carries it: what the webhook, show and admin see.
      const stored = await a.getEvent(paid.eventId);
      expect((stored?.event as PayoutEvent).transition?.kind).to.equal('forward');
      expect(stored?.deliveries.map((d) => d.destination)).to.deep.equal(['ledger']);
    });

    it('raises payout.anomaly in the same transaction for after-final and conflict, planned by the rules', async () => {
      const cn = nextControlNumber();
      await a.savePayoutEvent(status(cn, 2, '2026-11-27 11:00:00'), policy);
      const failure = await a.savePayoutEvent(status(cn, 4, '2026-11-27 12:00:00'), policy);
      expect(failure.transition?.kind).to.equal('conflict');
      const [anomaly] = failure.raised ?? [];
      expect(anomaly?.type).to.equal('payout.anomaly');
      const stored = await b.getEvent(anomaly?.id ?? '');
      const event = stored?.event as SystemEvent;
      expect(event.data).to.include({ kind: 'conflict', controlNumber: cn, partner: 'ACME', state: 'paid' });
      const history = event.data['history'] as unknown as { status: string; kind: string }[];
      expect(history.map((h) => [h.status, h.kind])).to.deep.equal([
        ['paid', 'first'],
        ['failure', 'conflict'],
      ]);
      expect(stored?.deliveries.map((d) => d.destination)).to.deep.equal(['ops']);

      const after = await b.savePayoutEvent(status(cn, 1, '2026-11-27 13:00:00'), policy);
      expect(after.transition?.kind).to.equal('after-final');
      expect(after.raised?.map((e) => e.type)).to.deep.equal(['payout.anomaly']);
      const [detail] = await a.getPayouts(cn);
      expect(detail?.payout).to.include({ state: 'paid', anomalies: 2 });
      // Both anomalies were relayed, and the callbacks themselves too.
      const anomalies = await a.listEvents({ type: 'payout.anomaly', limit: 10 });
      expect(anomalies.map((e) => e.deliveries.pending)).to.deep.equal([1, 1]);
    });

    it("lists a payout.anomaly with the partner and control number its data names, as the payout's events are", async () => {
      const cn = nextControlNumber();
      await a.savePayoutEvent(status(cn, 2, '2026-11-27 11:00:00'), policy);
      const [anomaly] = (await a.savePayoutEvent(status(cn, 4, '2026-11-27 12:00:00'), policy)).raised ?? [];
      const listed = await b.listEvents({ type: 'payout.anomaly', limit: 50 });
      const row = listed.find((e) => e.id === anomaly?.id);
      expect(row).to.deep.include({ source: 'skyrelay', type: 'payout.anomaly', controlNumber: cn, partner: 'ACME' });
      // Only the columns name it for filtering: the payout's own events are what a control number lists.
      const byNumber = await b.listEvents({ controlNumber: cn, limit: 10 });
      expect(byNumber.map((e) => e.source)).to.deep.equal(['skypay', 'skypay']);
    });

    it('a duplicate or a conflicting copy changes nothing on the payout', async () => {
      const cn = nextControlNumber();
      const upload = status(cn, 1, '2026-11-27 10:00:00');
      await a.savePayoutEvent(upload, policy);
      const [before] = await a.getPayouts(cn);
      const again = await b.savePayoutEvent(status(cn, 1, '2026-11-27 10:00:00', { id: 'evt_again' }), policy);
      expect(again).to.include({ duplicate: true });
      expect(again.transition).to.equal(undefined);
      const copy = await b.savePayoutEvent(
        status(cn, 1, '2026-11-27 10:00:00', { id: 'evt_copy', referenceNumber: 'OTHER' }),
        policy,
      );
      expect(copy.conflict?.differs).to.deep.equal(['referenceNumber']);
      const [detail] = await a.getPayouts(cn);
      expect(detail?.payout).to.deep.equal(before?.payout);
      expect(detail?.events).to.have.length(1);
      expect(detail?.events[0]?.duplicates).to.equal(1);
      expect(detail?.events[0]?.conflicts).to.have.length(1);
    });

    it('two concurrent callbacks of one payout from two instances: neither update is lost', async () => {
      for (let round = 0; round < 10; round++) {
        const cn = nextControlNumber();
        const upload = status(cn, 1, '2026-11-27 10:00:00');
        const paid = status(cn, 2, '2026-11-27 11:00:00');
        const [x, y] = await Promise.all([a.savePayoutEvent(upload, policy), b.savePayoutEvent(paid, policy)]);
        // Whichever committed first is the first; the other was judged against it.
        expect([x.transition?.kind, y.transition?.kind].sort().join()).to.be.oneOf(['first,late', 'first,forward']);
        const [detail] = await a.getPayouts(cn);
        expect(detail?.payout.state).to.equal('paid');
        expect(detail?.payout.lastDealTime).to.equal('2026-11-27 11:00:00');
      }
    });

    it('two concurrent different final statuses: exactly one conflict, one anomaly', async () => {
      for (let round = 0; round < 5; round++) {
        const cn = nextControlNumber();
        const results = await Promise.all([
          a.savePayoutEvent(status(cn, 2, '2026-11-27 11:00:00'), policy),
          b.savePayoutEvent(status(cn, 4, '2026-11-27 11:00:01'), policy),
        ]);
        expect(results.map((r) => r.transition?.kind).sort()).to.deep.equal(['conflict', 'first']);
        expect(results.flatMap((r) => r.raised ?? [])).to.have.length(1);
        const [detail] = await b.getPayouts(cn);
        expect(detail?.payout.anomalies).to.equal(1);
      }
    });

    it('two instances racing on a payout they both know: judged one after the other (the row is locked)', async () => {
      for (let round = 0; round < 10; round++) {
        const cn = nextControlNumber();
        await a.savePayoutEvent(status(cn, 1, '2026-11-27 10:00:00'), policy);
        const results = await Promise.all([
          a.savePayoutEvent(status(cn, 2, '2026-11-27 11:00:00'), policy),
          b.savePayoutEvent(status(cn, 4, '2026-11-27 11:00:01'), policy),
        ]);
        // Read apart, both would move an uploaded payout forward and the last write would win.
        expect(results.map((r) => r.transition?.kind).sort()).to.deep.equal(['conflict', 'forward']);
        const [detail] = await b.getPayouts(cn);
        expect(detail?.payout.anomalies).to.equal(1);
        const winner = results.find((r) => r.transition?.kind === 'forward')?.transition?.to;
        expect(detail?.payout.state).to.equal(winner);
      }
    });

    it('lists payouts by state, partner, age and anomalies, newest first, paged by id; counts them by state', async () => {
      const old = new Date(Date.now() - 7 * 3_600_000);
      const cns = [nextControlNumber(), nextControlNumber(), nextControlNumber()];
      await a.savePayoutEvent(status(cns[0] as string, 1, '2026-11-27 10:00:00', {}, old), policy);
      await a.savePayoutEvent(status(cns[1] as string, 1, '2026-11-27 10:00:00', { partner: 'OTHER' }), policy);
      await a.savePayoutEvent(status(cns[2] as string, 2, '2026-11-27 10:00:00'), policy);
      await a.savePayoutEvent(status(cns[2] as string, 3, '2026-11-27 10:00:01'), policy);

      const uploaded = await b.listPayouts({ state: 'uploaded', limit: 10 });
      expect(uploaded.map((p) => p.controlNumber).sort()).to.deep.equal([cns[0], cns[1]].sort());
      const stuck = await b.listPayouts({
        state: 'uploaded',
        stateSinceBeforeMs: Date.now() - 6 * 3_600_000,
        limit: 10,
      });
      expect(stuck.map((p) => p.controlNumber)).to.deep.equal([cns[0]]);
      expect((await b.listPayouts({ partner: 'OTHER', limit: 10 })).map((p) => p.controlNumber)).to.deep.equal([
        cns[1],
      ]);
      expect((await b.listPayouts({ anomalies: true, limit: 10 })).map((p) => p.controlNumber)).to.deep.equal([cns[2]]);
      // Ids given in one millisecond do not sort by creation: a page holds what sorts below the cursor, all once.
      const page1 = await b.listPayouts({ limit: 2 });
      const page2 = await b.listPayouts({ limit: 2, before: page1[1]?.id });
      const ids = [...page1, ...page2].map((p) => p.id);
      expect(ids).to.deep.equal([...ids].sort().reverse());
      expect([...page1, ...page2].map((p) => p.controlNumber).sort()).to.deep.equal([...cns].sort());
      expect(await a.countPayoutsByState()).to.deep.equal({ uploaded: 2, paid: 1 });
    });

    it('lists payouts by age alone, newest first and paged, when more newer payouts than the probe lie above them', async () => {
      const oldCns = [nextControlNumber(), nextControlNumber(), nextControlNumber()];
      const old = new Date(Date.now() - 30 * 86_400_000);
      for (const cn of oldCns) await a.savePayoutEvent(status(cn, 1, '2026-11-27 10:00:00', {}, old), policy);
      const fresh = Array.from({ length: AGE_PROBE_ROWS + 1 }, nextControlNumber);
      for (let i = 0; i < fresh.length; i += 100) {
        await Promise.all(
          fresh.slice(i, i + 100).map((cn) => a.savePayoutEvent(status(cn, 1, '2026-11-27 10:00:00'), policy)),
        );
      }

      const filter = { stateSinceBeforeMs: Date.now() - 29 * 86_400_000 };
      const page1 = await b.listPayouts({ ...filter, limit: 2 });
      const page2 = await b.listPayouts({ ...filter, limit: 2, before: page1[1]?.id });
      const listed = [...page1, ...page2];
      expect(listed.map((p) => p.controlNumber).sort()).to.deep.equal([...oldCns].sort());
      expect(listed.map((p) => p.id)).to.deep.equal(
        listed
          .map((p) => p.id)
          .sort()
          .reverse(),
      );
      expect(page2).to.have.length(1);
      expect(await b.countPayouts(filter)).to.equal(3);
      // When the newest payouts match, the page is theirs: the same as the listing without the filter.
      const everyone = { stateSinceBeforeMs: Date.now() + 1 };
      expect((await b.listPayouts({ ...everyone, limit: 5 })).map((p) => p.id)).to.deep.equal(
        (await b.listPayouts({ limit: 5 })).map((p) => p.id),
      );
      expect(await b.countPayouts(everyone)).to.equal(AGE_PROBE_ROWS + 4);
    });

    it('lists and counts open payouts (the stuck view) and anomalies; a count ignores paging', async () => {
      const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
      const partner = `P${nextControlNumber()}`;
      const [up, amended, paid, fresh, odd] = Array.from({ length: 5 }, nextControlNumber) as [
        string,
        string,
        string,
        string,
        string,
      ];
      const mine = { partner };
      await a.savePayoutEvent(status(up, 1, '2026-11-27 10:00:00', mine, hoursAgo(8)), policy);
      await a.savePayoutEvent(status(amended, 5, '2026-11-27 10:00:00', mine, hoursAgo(9)), policy);
      await a.savePayoutEvent(status(paid, 2, '2026-11-27 10:00:00', mine, hoursAgo(10)), policy);
      await a.savePayoutEvent(status(fresh, 1, '2026-11-27 10:00:00', mine), policy);
      await a.savePayoutEvent(status(odd, 2, '2026-11-27 10:00:00', mine, hoursAgo(7)), policy);
      await a.savePayoutEvent(status(odd, 4, '2026-11-27 10:00:01', mine, hoursAgo(7)), policy);

      const stuckFilter = { partner, open: true, stateSinceBeforeMs: Date.now() - 6 * 3_600_000 };
      const stuck = await b.listPayouts({ ...stuckFilter, limit: 10 });
      expect(stuck.map((p) => p.controlNumber).sort()).to.deep.equal([up, amended].sort());
      expect(await b.countPayouts(stuckFilter)).to.equal(2);
      const open = await b.listPayouts({ partner, open: true, limit: 10 });
      expect(open.map((p) => p.controlNumber).sort()).to.deep.equal([up, amended, fresh].sort());
      expect(await b.countPayouts({ partner, open: true })).to.equal(3);
      expect(await b.countPayouts({ partner, anomalies: true })).to.equal(1);
      expect(await b.countPayouts({ partner })).to.equal(5);
      expect(await b.countPayouts({ partner, state: 'paid' })).to.equal(2);
      expect(await b.countPayouts({ partner: `${partner}-none` })).to.equal(0);
    });

    it('lists open payouts oldest first, older than a minimum age, at most a limit', async () => {
      const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
      const [c1, c2, c3, c4] = [nextControlNumber(), nextControlNumber(), nextControlNumber(), nextControlNumber()];
      await a.savePayoutEvent(status(c2, 1, '2026-11-27 10:00:00', {}, hoursAgo(2)), policy);
      await a.savePayoutEvent(status(c1, 1, '2026-11-27 10:00:00', {}, hoursAgo(3)), policy);
      await a.savePayoutEvent(status(c3, 2, '2026-11-27 10:00:00', {}, hoursAgo(4)), policy);
      await a.savePayoutEvent(status(c4, 5, '2026-11-27 10:00:00', {}, new Date()), policy);
      const open = await b.listOpenPayouts({ firstSeenBeforeMs: Date.now() - 3_600_000, limit: 10 });
      expect(open.map((p) => p.controlNumber)).to.deep.equal([c1, c2]);
      const one = await b.listOpenPayouts({ firstSeenBeforeMs: Date.now(), limit: 1 });
      expect(one.map((p) => p.controlNumber)).to.deep.equal([c1]);
    });

    it('raises payout.stuck once per state, in one of two racing instances, and payout.unstuck at the final status', async () => {
      const cn = nextControlNumber();
      await a.savePayoutEvent(status(cn, 1, '2026-11-27 10:00:00', {}, new Date(Date.now() - 3_600_000)), policy);
      const check = () => ({
        cutoffs: OPEN_STATES.map((state) => ({ state, stateSinceBeforeMs: Date.now() - 60_000 })),
        limit: 10,
        build: (p: Parameters<typeof buildStuckEvent>[0]) => buildStuckEvent(p, new Date()),
        plan,
      });
      const [x, y] = await Promise.all([a.raiseStuckPayouts(check()), b.raiseStuckPayouts(check())]);
      const raised = [...x, ...y];
      expect(raised.map((e) => [e.type, e.data['controlNumber'], e.data['state']])).to.deep.equal([
        ['payout.stuck', cn, 'uploaded'],
      ]);
      expect(await a.raiseStuckPayouts(check())).to.deep.equal([]);
      const [detail] = await b.getPayouts(cn);
      expect(detail?.payout.stuckState).to.equal('uploaded');
      // An amendment is a new state: stuck in it may be told again, once its own time has passed.
      await a.savePayoutEvent(status(cn, 5, '2026-11-27 10:05:00', {}, new Date(Date.now() - 120_000)), policy);
      expect((await b.raiseStuckPayouts(check())).map((e) => e.data['state'])).to.deep.equal(['amendedSuccess']);
      const paid = await b.savePayoutEvent(status(cn, 2, '2026-11-27 11:00:00'), policy);
      expect(paid.raised?.map((e) => [e.type, e.data['state'], e.data['stuckState']])).to.deep.equal([
        ['payout.unstuck', 'paid', 'amendedSuccess'],
      ]);
      expect(await a.raiseStuckPayouts(check())).to.deep.equal([]);
      const stuckEvents = await a.listEvents({ type: 'payout.stuck', limit: 10 });
      expect(stuckEvents.map((e) => e.deliveries.pending)).to.deep.equal([1, 1]);
    });

    it('raises payout.stuck past the cutoff of its state and partner only; lists and counts the same payouts', async () => {
      const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
      const [c1, c2, c3, c4, c5] = [1, 2, 3, 4, 5].map(() => nextControlNumber());
      const acme = { partner: 'ACME' };
      const remit = { partner: 'REMIT' };
      await a.savePayoutEvent(status(c1 as string, 1, '2026-11-27 10:00:00', acme, hoursAgo(3)), policy);
      await a.savePayoutEvent(status(c2 as string, 1, '2026-11-27 10:00:00', acme, hoursAgo(3)), policy);
      await a.savePayoutEvent(status(c2 as string, 6, '2026-11-27 10:05:00', acme, hoursAgo(3)), policy);
      await a.savePayoutEvent(status(c3 as string, 1, '2026-11-27 10:00:00', remit, hoursAgo(3)), policy);
      await a.savePayoutEvent(status(c4 as string, 1, '2026-11-27 10:00:00', remit, hoursAgo(30)), policy);
      await a.savePayoutEvent(
        status(c5 as string, 1, '2026-11-27 10:00:00', { partner: 'BETA' }, hoursAgo(1.5)),
        policy,
      );
      // Uploaded: 1 h for everyone but REMIT (and a partner with no payouts), 24 h for REMIT; amendedFailure: never.
      const uploaded = [
        { state: 'uploaded' as const, stateSinceBeforeMs: hoursAgo(1).getTime(), exceptPartners: ['REMIT', 'NONE'] },
        { state: 'uploaded' as const, stateSinceBeforeMs: hoursAgo(24).getTime(), partner: 'REMIT' },
      ];
      const check = (cutoffs: StuckCutoff[]) => ({
        cutoffs,
        limit: 10,
        build: (p: Parameters<typeof buildStuckEvent>[0]) => buildStuckEvent(p, new Date()),
        plan,
      });
      const stuckNow = [c4, c1, c5];
      expect(await b.countPayouts({ open: true, stuck: uploaded })).to.equal(3);
      const listed = await b.listPayouts({ stuck: uploaded, limit: 10 });
      expect(listed.map((p) => p.controlNumber).sort()).to.deep.equal([...stuckNow].sort());
      expect(await b.countPayouts({ stuck: [] })).to.equal(0);
      expect(await a.raiseStuckPayouts(check([]))).to.deep.equal([]);

      const raised = await a.raiseStuckPayouts(check(uploaded));
      // Oldest in its state first.
      expect(raised.map((e) => [e.data['controlNumber'], e.data['partner'], e.data['state']])).to.deep.equal([
        [c4, 'REMIT', 'uploaded'],
        [c1, 'ACME', 'uploaded'],
        [c5, 'BETA', 'uploaded'],
      ]);
      expect(await b.raiseStuckPayouts(check(uploaded))).to.deep.equal([]);
      // A wait for amendedFailure reaches the amended payout, and only it.
      const amended = [{ state: 'amendedFailure' as const, stateSinceBeforeMs: hoursAgo(2).getTime() }];
      expect(
        (await b.raiseStuckPayouts(check([...uploaded, ...amended]))).map((e) => e.data['controlNumber']),
      ).to.deep.equal([c2]);
      const [remitFresh] = await b.getPayouts(c3 as string);
      expect(remitFresh?.payout.stuckState).to.equal(null);
    });

    it('returns a control number of two partners as two payouts, or one with its partner', async () => {
      const cn = nextControlNumber();
      await a.savePayoutEvent(status(cn, 1, '2026-11-27 10:00:00', { partner: 'ACME' }), policy);
      await a.savePayoutEvent(status(cn, 2, '2026-11-27 10:00:00', { partner: 'BETA' }), policy);
      const both = await b.getPayouts(cn);
      expect(both.map((d) => [d.payout.partner, d.payout.state, d.events.length])).to.deep.equal([
        ['ACME', 'uploaded', 1],
        ['BETA', 'paid', 1],
      ]);
      expect((await b.getPayouts(cn, 'BETA')).map((d) => d.payout.partner)).to.deep.equal(['BETA']);
      expect(await b.getPayouts('NOSUCH')).to.deep.equal([]);
    });
  });
}
