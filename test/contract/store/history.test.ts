/**
 * The history part of the Store contract, run against every implementation: what the dashboard and the admin lists
 * read stays right however it is kept (counts kept as payouts change, each destination's last outcomes kept as
 * attempts finish, reads on a thread of their own), with two instances on one database standing for two processes.
 */
import { expect } from 'chai';
import { PAY_STATUSES, PAYOUT_STATES, type PayType, type PayoutEvent, type RelayEvent } from '../../../src/event';
import { createPayoutPolicy } from '../../../src/payouts/policy';
import type { Store } from '../../../src/store/store';
import type { AttemptRecord, ClaimOptions, NewDelivery } from '../../../src/delivery/types';
import { buildPayoutEvent } from '../../support/fixtures';
import { STORE_FACTORIES, type StoreHarness } from './factories';

let serial = 0;
const next = (): string => String(++serial).padStart(10, '0');

const plan = (event: RelayEvent): NewDelivery[] => [
  { id: `dlv_${next()}`, destination: event.source === 'skypay' ? 'ledger' : 'ops', rules: ['r'] },
];
const policy = createPayoutPolicy(plan);

function status(controlNumber: string, payType: PayType, dealTime: string, receivedMs = Date.now()): PayoutEvent {
  return buildPayoutEvent({
    id: `evt_${next()}`,
    partner: 'ACME',
    controlNumber,
    payType,
    status: PAY_STATUSES[payType],
    dealTime,
    failDescription: payType === 4 ? 'closed' : null,
    receivedAt: new Date(receivedMs).toISOString(),
  });
}

function claimOptions(owner: string): ClaimOptions {
  return { owner, now: Date.now(), leaseMs: 30_000, maxInFlight: () => 100, max: 100 };
}

for (const factory of STORE_FACTORIES) {
  factory.describe(`Store contract, history: ${factory.name}`, function () {
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

    it('keeps payouts per state right while two instances store the statuses of the same payouts at once', async () => {
      // Each payout gets its statuses from both instances at once, in every order: new payouts racing each other,
      // moves out of a state and into it, statuses that change nothing (late, after a final one).
      const lifecycles: PayType[][] = [[1, 2], [1, 5, 2], [1, 4], [1, 3], [1, 6], [1], [1, 2, 3], [5, 1]];
      const writes: Promise<unknown>[] = [];
      for (let p = 0; p < 24; p++) {
        const cn = `SKH${next()}`;
        const statuses = lifecycles[p % lifecycles.length] as PayType[];
        statuses.forEach((payType, i) => {
          const store = (p + i) % 2 === 0 ? a : b;
          writes.push(store.savePayoutEvent(status(cn, payType, `2026-01-01 10:0${i}:00`), policy));
        });
      }
      await Promise.all(writes);
      const scanned: Record<string, number> = {};
      for (const state of PAYOUT_STATES) {
        const n = await b.countPayouts({ state });
        if (n > 0) scanned[state] = n;
      }
      expect(Object.values(scanned).reduce((x, y) => x + y, 0)).to.equal(24);
      expect(await a.countPayoutsByState()).to.deep.equal(scanned);
      expect(await b.countPayoutsByState()).to.deep.equal(scanned);
      const open = await a.listPayouts({ open: true, limit: 100 });
      expect(await b.countPayouts({ open: true }))
        .to.equal(open.length)
        .and.to.be.greaterThan(0);
    });

    it("keeps each destination's last success and last failure, the later attempt winning whatever commits first", async () => {
      const t0 = Date.now() - 60_000;
      const deliveries = Array.from({ length: 4 }, () => ({
        id: `dlv_${next()}`,
        destination: 'ledger',
        rules: ['r'],
      }));
      await a.saveEvent(status(`SKH${next()}`, 1, '2026-01-01 10:00:00'), deliveries);
      const claimed = [
        ...(await a.claimDeliveries({ ...claimOptions('worker-a'), max: 2 })),
        ...(await b.claimDeliveries({ ...claimOptions('worker-b'), max: 2 })),
      ];
      expect(claimed).to.have.length(4);
      const [d1, d2, d3, d4] = claimed;
      const attempt = (at: number, outcome: AttemptRecord['outcome'], status?: number): AttemptRecord => ({
        startedAt: t0 + at,
        durationMs: 5,
        outcome,
        ...(status === undefined ? {} : { status, error: `HTTP ${status}` }),
      });
      const owner = (i: number) => (i < 2 ? 'worker-a' : 'worker-b');
      // The later success and the later failure are committed first, by the other instance.
      await b.finishAttempt(d4!, owner(3), attempt(4_000, 'delivered'), { state: 'delivered' });
      await a.finishAttempt(d2!, owner(1), attempt(3_000, 'retry', 503), { state: 'pending', nextAttemptMs: t0 });
      await Promise.all([
        a.finishAttempt(d1!, owner(0), attempt(1_000, 'delivered'), { state: 'delivered' }),
        b.finishAttempt(d3!, owner(2), attempt(2_000, 'dead', 400), { state: 'dead' }),
      ]);
      const expected = [
        {
          destination: 'ledger',
          lastSuccessAt: new Date(t0 + 4_000).toISOString(),
          lastErrorAt: new Date(t0 + 3_000).toISOString(),
          lastErrorStatus: 503,
          lastError: 'HTTP 503',
        },
      ];
      expect(await a.readDestinationActivity()).to.deep.equal(expected);
      expect(await b.readDestinationActivity()).to.deep.equal(expected);
    });

    it('reads what was written just before, on this instance and the other', async () => {
      for (let i = 0; i < 20; i++) {
        const cn = `SKH${next()}`;
        const event = status(cn, 1, '2026-01-01 10:00:00');
        const delivery = { id: `dlv_${next()}`, destination: 'ledger', rules: ['r'] };
        const writer = i % 2 === 0 ? a : b;
        const reader = i % 2 === 0 ? b : a;
        await writer.saveEvent(event, [delivery]);
        expect((await writer.getEvent(event.id))?.deliveries.map((d) => d.id)).to.deep.equal([delivery.id]);
        const [listed] = await reader.listEvents({ controlNumber: cn, limit: 10 });
        expect(listed?.deliveries).to.deep.equal({ pending: 1, inflight: 0, delivered: 0, dead: 0 });
        expect((await reader.listDeliveries({ destination: 'ledger', limit: 1 }))[0]?.id).to.equal(delivery.id);
      }
    });

    it('lists a time window newest first by arrival, in pages without gaps or repeats', async () => {
      const t0 = Date.now() - 10 * 60_000;
      // Stored out of arrival order, as ids and arrival times of several processes may interleave.
      const offsets = [5, 1, 7, 3, 9, 2, 8, 4, 6];
      const events = offsets.map((m) => status(`SKH${next()}`, 1, '2026-01-01 10:00:00', t0 + m * 60_000));
      for (const event of events) await (event.controlNumber.endsWith('1') ? a : b).saveEvent(event, []);
      const window = { sinceMs: t0 + 2 * 60_000, untilMs: t0 + 8 * 60_000 };
      const pages: string[][] = [];
      let before: string | undefined;
      for (;;) {
        const page = await a.listEvents({ ...window, before, limit: 2 });
        if (page.length === 0) break;
        pages.push(page.map((e) => e.id));
        before = page[page.length - 1]?.id;
      }
      const inWindow = events
        .filter((e) => Date.parse(e.receivedAt) >= window.sinceMs && Date.parse(e.receivedAt) < window.untilMs)
        .sort((x, y) => Date.parse(y.receivedAt) - Date.parse(x.receivedAt))
        .map((e) => e.id);
      expect(inWindow).to.have.length(6);
      expect(pages.flat()).to.deep.equal(inWindow);
      expect(pages.map((p) => p.length)).to.deep.equal([2, 2, 2]);
    });
  });
}
