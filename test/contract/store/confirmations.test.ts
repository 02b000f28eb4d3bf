/**
 * Confirmation and the same-time fingerprint, part of the Store contract, run against every implementation: a
 * final status a callback brings waits for SkyPay's status query (stored on the payout's row and on the event), a
 * status with an earlier status's exact dealTime raises payout.anomaly in its own transaction, and a pending
 * confirmation is settled once, with its event, however many instances race for it.
 */
import { expect } from 'chai';
import type { PayType, PayoutEvent, RelayEvent, SystemEvent } from '../../../src/event';
import { PAY_STATUSES } from '../../../src/event';
import { createPayoutPolicy } from '../../../src/payouts/policy';
import type { Store } from '../../../src/store/store';
import type { ConfirmationSettlement } from '../../../src/payouts/types';
import type { NewDelivery } from '../../../src/delivery/types';
import { buildPayoutEvent } from '../../support/fixtures';
import { STORE_FACTORIES, type StoreHarness } from './factories';

let serial = 0;
const nextControlNumber = (): string => `SKC${Date.now().toString(36)}${String(++serial).padStart(6, '0')}`;
const plan = (event: RelayEvent): NewDelivery[] => [
  {
    id: `dlv_c${String(++serial).padStart(10, '0')}`,
    destination: event.source === 'skypay' ? 'ledger' : 'ops',
    rules: ['r'],
  },
];
/** The status query asks with ACME's credentials: ACME's final statuses wait for it, OTHER's cannot. */
const policy = createPayoutPolicy(plan, undefined, { statusQueryPartner: 'ACME' });
const noQuery = createPayoutPolicy(plan);

function status(
  controlNumber: string,
  payType: PayType,
  dealTime: string,
  overrides: Partial<PayoutEvent> = {},
): PayoutEvent {
  return buildPayoutEvent({
    id: `evt_c${String(++serial).padStart(10, '0')}`,
    partner: 'ACME',
    controlNumber,
    payType,
    status: PAY_STATUSES[payType],
    dealTime,
    failDescription: null,
    referenceNumber: null,
    extra: {},
    receivedAt: new Date().toISOString(),
    ...overrides,
  });
}

function settlement(
  controlNumber: string,
  confirmation: 'confirmed' | 'contradicted',
  overrides: Partial<ConfirmationSettlement> = {},
): ConfirmationSettlement {
  const event: SystemEvent = {
    id: `evt_c${String(++serial).padStart(10, '0')}`,
    source: 'skyrelay',
    type: confirmation === 'confirmed' ? 'payout.confirmed' : 'payout.anomaly',
    receivedAt: new Date().toISOString(),
    data: { partner: 'ACME', controlNumber, state: 'paid', confirmation },
  };
  return {
    partner: 'ACME',
    controlNumber,
    state: 'paid',
    confirmation,
    event,
    deliveries: plan(event),
    ...overrides,
  };
}

for (const factory of STORE_FACTORIES) {
  factory.describe(`Store contract, confirmation and same-time: ${factory.name}`, function () {
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

    it("keeps the confirmation on the payout's row and on each stored event", async () => {
      const [cn, other, unqueried, missed] = [1, 2, 3, 4].map(() => nextControlNumber()) as [
        string,
        string,
        string,
        string,
      ];
      const upload = await a.savePayoutEvent(status(cn, 1, '2026-11-27 10:00:00'), policy);
      expect((await a.getPayouts(cn))[0]?.payout.confirmation).to.equal('off');
      const paid = await b.savePayoutEvent(status(cn, 2, '2026-11-27 10:20:00'), policy);
      expect((await a.getPayouts(cn))[0]?.payout.confirmation).to.equal('pending');
      // What a webhook body, show and the rules see: the confirmation right after that status.
      expect(((await a.getEvent(upload.eventId))?.event as PayoutEvent).confirmation).to.equal('off');
      expect(((await a.getEvent(paid.eventId))?.event as PayoutEvent).confirmation).to.equal('pending');
      // A status after the final one leaves the confirmation as it was.
      await a.savePayoutEvent(status(cn, 5, '2026-11-27 10:30:00'), policy);
      expect((await b.getPayouts(cn))[0]?.payout).to.include({ state: 'paid', confirmation: 'pending' });

      // Another partner's payouts: the query cannot ask about them. No query at all: nothing confirms.
      await a.savePayoutEvent(status(other, 4, '2026-11-27 10:00:00', { partner: 'OTHER' }), policy);
      await a.savePayoutEvent(status(unqueried, 3, '2026-11-27 10:00:00'), noQuery);
      // A status SkyPay's query reported itself is confirmed by it.
      await a.savePayoutEvent(status(missed, 1, '2026-11-27 10:00:00'), policy);
      await a.savePayoutEvent(status(missed, 2, '2026-11-27 10:40:00', { origin: 'reconciliation' }), policy);
      const byCn = new Map((await b.listPayouts({ limit: 10 })).map((p) => [p.controlNumber, p.confirmation]));
      expect([byCn.get(other), byCn.get(unqueried), byCn.get(missed)]).to.deep.equal(['off', 'off', 'confirmed']);
      const pending = await b.listPayouts({ confirmation: 'pending', limit: 10 });
      expect(pending.map((p) => p.controlNumber)).to.deep.equal([cn]);
      expect(await b.countPayouts({ confirmation: 'confirmed' })).to.equal(1);
    });

    it("raises payout.anomaly (same-time) in the transaction of a status with its previous status's exact dealTime", async () => {
      const cn = nextControlNumber();
      await a.savePayoutEvent(status(cn, 1, '2026-11-27 10:00:00'), policy);
      const spliced = await b.savePayoutEvent(status(cn, 2, '2026-11-27 10:00:00'), policy);
      // The payout still moves (SkyPay's callbacks are answered and relayed whatever they say), flagged.
      expect(spliced.transition).to.deep.equal({ from: 'uploaded', to: 'paid', kind: 'forward' });
      const [anomaly, ...more] = spliced.raised ?? [];
      expect(more).to.deep.equal([]);
      const stored = await a.getEvent(anomaly?.id ?? '');
      const data = (stored?.event as SystemEvent).data;
      expect(data).to.include({
        kind: 'same-time',
        partner: 'ACME',
        controlNumber: cn,
        state: 'paid',
        confirmation: 'pending',
        payoutStatus: 'paid',
        dealTime: '2026-11-27 10:00:00',
        previousStatus: 'upload',
      });
      expect(String(data['reason'])).to.match(/does not move in 0 seconds often.*spliced forgery/);
      expect(String(data['reason'])).not.to.contain(cn);
      expect(stored?.deliveries.map((d) => d.destination)).to.deep.equal(['ops']);
      expect((await a.getPayouts(cn))[0]?.payout).to.include({ state: 'paid', anomalies: 1 });
      expect(await a.countPayouts({ anomalies: true })).to.equal(1);
    });

    it('finds the same time on an older status too (read from the history), but not on a status SkyPay reported', async () => {
      const [amended, reconciled] = [nextControlNumber(), nextControlNumber()];
      await a.savePayoutEvent(status(amended, 1, '2026-11-27 10:00:00'), policy);
      await a.savePayoutEvent(status(amended, 5, '2026-11-27 10:30:00'), policy);
      // A splice of the captured upload after an amendment: late, but it closes the payout.
      const late = await b.savePayoutEvent(status(amended, 2, '2026-11-27 10:00:00'), policy);
      expect(late.transition).to.deep.equal({ from: 'amendedSuccess', to: 'paid', kind: 'late' });
      expect(late.raised?.map((e) => [e.type, e.data['kind'], e.data['previousStatus']])).to.deep.equal([
        ['payout.anomaly', 'same-time', 'upload'],
      ]);
      // A later status at any other time is no splice.
      const [detail] = await a.getPayouts(amended);
      expect(detail?.payout).to.include({ state: 'paid', anomalies: 1, confirmation: 'pending' });

      await a.savePayoutEvent(status(reconciled, 1, '2026-11-27 10:00:00'), policy);
      const fromQuery = await a.savePayoutEvent(
        status(reconciled, 2, '2026-11-27 10:00:00', { origin: 'reconciliation' }),
        policy,
      );
      expect(fromQuery.raised).to.deep.equal([]);
      expect((await a.getPayouts(reconciled))[0]?.payout).to.include({ anomalies: 0, confirmation: 'confirmed' });
    });

    it('finds the same time among statuses of one payout that arrive in one group commit, and in what was stored before', async () => {
      const [fresh, known] = [nextControlNumber(), nextControlNumber()];
      // Submitted in one turn, so they share a transaction: the paid is judged after the upload, not yet stored.
      const [, spliced] = await Promise.all([
        a.savePayoutEvent(status(fresh, 1, '2026-11-27 10:00:00'), policy),
        a.savePayoutEvent(status(fresh, 2, '2026-11-27 10:00:00'), policy),
      ]);
      expect(spliced.transition).to.deep.equal({ from: 'uploaded', to: 'paid', kind: 'forward' });
      expect(spliced.raised?.map((e) => [e.data['kind'], e.data['previousStatus']])).to.deep.equal([
        ['same-time', 'upload'],
      ]);
      expect((await b.getPayouts(fresh))[0]?.payout).to.include({
        state: 'paid',
        anomalies: 1,
        confirmation: 'pending',
      });

      // The upload stored before; the amendment and the spliced paid together: the paid's history holds both.
      await a.savePayoutEvent(status(known, 1, '2026-11-27 10:00:00'), policy);
      const [, late] = await Promise.all([
        a.savePayoutEvent(status(known, 5, '2026-11-27 10:30:00'), policy),
        a.savePayoutEvent(status(known, 2, '2026-11-27 10:00:00'), policy),
      ]);
      expect(late.transition).to.deep.equal({ from: 'amendedSuccess', to: 'paid', kind: 'late' });
      const [anomaly, ...more] = late.raised ?? [];
      expect(more).to.deep.equal([]);
      expect(anomaly?.data).to.include({ kind: 'same-time', previousStatus: 'upload', confirmation: 'pending' });
      const history = anomaly?.data['history'] as readonly { status: string }[];
      expect(history.map((h) => h.status)).to.deep.equal(['upload', 'amendedSuccess', 'paid']);
      expect((await b.getPayouts(known))[0]?.payout).to.include({ state: 'paid', anomalies: 1 });
    });

    it('lists pending confirmations oldest in their state first, older than an instant, by partner, not asked since', async () => {
      const cns = [nextControlNumber(), nextControlNumber(), nextControlNumber()];
      // Final one after the other (a ms apart: the order is by the time each entered its state).
      const base = Date.now() - 60_000;
      for (const [i, cn] of cns.entries()) {
        const receivedAt = new Date(base + i).toISOString();
        await a.savePayoutEvent(status(cn, 2, '2026-11-27 10:00:00', { receivedAt }), policy);
      }
      // Pending for a status query that asked with OTHER's credentials (a config since changed): left out by partner.
      const otherQuery = createPayoutPolicy(plan, undefined, { statusQueryPartner: 'OTHER' });
      await a.savePayoutEvent(status(nextControlNumber(), 2, '2026-11-27 10:00:00', { partner: 'OTHER' }), otherQuery);
      await a.savePayoutEvent(status(nextControlNumber(), 1, '2026-11-27 10:00:00'), policy);
      const now = Date.now() + 1;
      const all = await b.listPendingConfirmations({ stateSinceBeforeMs: now, limit: 10, partner: 'ACME' });
      expect(all.map((p) => p.controlNumber)).to.deep.equal(cns);
      expect(all.every((p) => p.confirmation === 'pending' && p.state === 'paid')).to.equal(true);
      expect(await b.listPendingConfirmations({ stateSinceBeforeMs: now, limit: 2, partner: 'ACME' })).to.have.length(
        2,
      );
      expect(await b.listPendingConfirmations({ stateSinceBeforeMs: now - 3_600_000, limit: 10 })).to.deep.equal([]);
      expect(await b.listPendingConfirmations({ stateSinceBeforeMs: now, limit: 10 })).to.have.length(4);
      // Asked within the interval: not due again (the reconciliation row says when).
      await a.recordReconciliations([
        {
          partner: 'ACME',
          controlNumber: cns[0] ?? '',
          checkedMs: now,
          status: 2,
          statusDesc: 'Uploaded',
          outcome: 'missing',
          detail: 'x',
          eventId: null,
        },
      ]);
      const due = await b.listPendingConfirmations({
        stateSinceBeforeMs: now,
        limit: 10,
        partner: 'ACME',
        notCheckedSinceMs: now - 1000,
      });
      expect(due.map((p) => p.controlNumber)).to.deep.equal(cns.slice(1));
    });

    it('settles a pending confirmation once with its event, whichever of two racing instances wins', async () => {
      const [good, bad] = [nextControlNumber(), nextControlNumber()];
      await a.savePayoutEvent(status(good, 2, '2026-11-27 10:00:00'), policy);
      await a.savePayoutEvent(status(bad, 2, '2026-11-27 10:00:00'), policy);
      const racing = [settlement(good, 'confirmed'), settlement(good, 'confirmed')];
      const won = await Promise.all([a.settleConfirmation(racing[0]!), b.settleConfirmation(racing[1]!)]);
      expect(won.filter(Boolean)).to.have.length(1);
      const winner = racing[won.indexOf(true)]!;
      const confirmed = await b.listEvents({ type: 'payout.confirmed', limit: 10 });
      expect(confirmed.map((e) => [e.id, e.deliveries.pending])).to.deep.equal([[winner.event.id, 1]]);
      expect((await a.getPayouts(good))[0]?.payout).to.include({ confirmation: 'confirmed', anomalies: 0 });
      expect(await a.getEvent(racing[won.indexOf(false)]!.event.id)).to.equal(undefined);

      // A contradiction counts as an anomaly; a payout no longer pending (or in another state) takes nothing.
      expect(await b.settleConfirmation(settlement(bad, 'contradicted', { state: 'failed' }))).to.equal(false);
      expect(await b.settleConfirmation(settlement(bad, 'contradicted'))).to.equal(true);
      expect(await a.settleConfirmation(settlement(bad, 'confirmed'))).to.equal(false);
      expect((await a.getPayouts(bad))[0]?.payout).to.include({ confirmation: 'contradicted', anomalies: 1 });
      expect(await a.countPayouts({ confirmation: 'contradicted' })).to.equal(1);
      expect(await a.listPendingConfirmations({ stateSinceBeforeMs: Date.now() + 1, limit: 10 })).to.deep.equal([]);
    });
  });
}
