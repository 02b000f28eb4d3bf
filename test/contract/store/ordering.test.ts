/**
 * The Store contract for ordered destinations (src/store/ordering.ts): a payout's deliveries to one go one at a
 * time in the order stored, across instances; a death holds the rest or not; replays go in place. Two Store
 * instances on one database stand for two processes or hosts.
 */
import { expect } from 'chai';
import type { PayoutEvent } from '../../../src/event';
import type { Store } from '../../../src/store/store';
import type { ClaimOptions, ClaimedDelivery, DeliveryNext, NewDelivery } from '../../../src/delivery/types';
import { buildPayoutEvent } from '../../support/fixtures';
import { STORE_FACTORIES, type StoreHarness } from './factories';

const MINUTE = 60_000;
let serial = 0;

/** The `n`th status of payout `controlNumber` (each its own identity), received a minute ago. */
function status(controlNumber: string, n: number, partner = 'ACME'): PayoutEvent {
  serial += 1;
  return buildPayoutEvent({
    id: `evt_${String(serial).padStart(8, '0')}`,
    partner,
    controlNumber,
    payType: 1,
    status: 'upload',
    dealTime: `2026-01-01 10:00:${String(n).padStart(2, '0')}`,
    receivedAt: new Date(Date.now() - MINUTE).toISOString(),
  });
}

/** A route to `destination`, ordered unless told otherwise. */
function route(destination: string, ordered = true): NewDelivery {
  serial += 1;
  return { id: `dlv_${destination}_${String(serial).padStart(8, '0')}`, destination, rules: ['contract'], ordered };
}

function claimOptions(owner: string, overrides: Partial<ClaimOptions> = {}): ClaimOptions {
  return { owner, now: Date.now(), leaseMs: 30_000, maxInFlight: () => 100, max: 100, ...overrides };
}

const attempt = (outcome: 'delivered' | 'retry' | 'dead') => ({ startedAt: Date.now(), durationMs: 5, outcome });
const DELIVERED: DeliveryNext = { state: 'delivered' };
const HOLD: DeliveryNext = { state: 'dead', hold: true };

for (const factory of STORE_FACTORIES) {
  factory.describe(`Store contract, ordered destinations: ${factory.name}`, function () {
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

    /**
     * Stores `count` statuses of one payout, each routed to the destinations given (ordered ones, but for `audit`);
     * resolves their delivery ids, by status then destination.
     */
    async function payout(store: Store, cn: string, count: number, destinations = ['ledger']): Promise<string[][]> {
      const ids: string[][] = [];
      for (let n = 1; n <= count; n++) {
        const routes = destinations.map((d) => route(d, d !== 'audit'));
        await store.saveEvent(status(cn, n), routes);
        ids.push(routes.map((r) => r.id));
      }
      return ids;
    }

    const ids = (claimed: readonly ClaimedDelivery[]) => claimed.map((c) => c.id).sort();
    const finish = (store: Store, c: ClaimedDelivery, owner: string, next: DeliveryNext = DELIVERED) =>
      store.finishAttempt(c, owner, attempt(next.state === 'pending' ? 'retry' : next.state), next);

    it("sends a payout's deliveries one at a time in the order stored, and holds no other payout", async () => {
      const p = (await payout(a, 'P', 3)).map(([id]) => id as string);
      const [q] = (await payout(b, 'Q', 1)).map(([id]) => id as string);
      const first = await a.claimDeliveries(claimOptions('a'));
      expect(ids(first)).to.deep.equal([p[0], q].sort());
      expect(await b.claimDeliveries(claimOptions('b')), "P's second waits for its first").to.deep.equal([]);

      for (const c of first) await finish(a, c, 'a');
      const [second] = await b.claimDeliveries(claimOptions('b'));
      expect(second?.id).to.equal(p[1]);
      // A retry keeps the payout's place: its third waits while the second is pending again.
      const later = Date.now() + MINUTE;
      await finish(b, second!, 'b', { state: 'pending', nextAttemptMs: later });
      expect(await a.claimDeliveries(claimOptions('a'))).to.deep.equal([]);
      expect(await a.nextWakeAt(), 'the third is not due before the second').to.equal(later);
      const [again] = await a.claimDeliveries(claimOptions('a', { now: later }));
      expect(again).to.deep.include({ id: p[1], attempt: 2 });
      await finish(a, again!, 'a');
      const [third] = await b.claimDeliveries(claimOptions('b', { now: later }));
      expect(third?.id).to.equal(p[2]);

      const listed = await a.listDeliveries({ destination: 'ledger', limit: 10 });
      expect(listed.filter((d) => d.controlNumber === 'P').map((d) => [d.id, d.payoutSeq])).to.have.deep.members([
        [p[0], 1],
        [p[1], 2],
        [p[2], 3],
      ]);
    });

    it('sends every delivery to an unordered destination at once, beside an ordered one', async () => {
      const p = await payout(a, 'P', 3, ['ledger', 'audit']);
      const audit = await a.saveEvent(status('P', 9), [route('audit', false)]);
      const claimed = await b.claimDeliveries(claimOptions('b'));
      expect(ids(claimed)).to.deep.equal(
        [p[0]?.[0], ...p.map((r) => r[1]), ...(await a.getEvent(audit.eventId))!.deliveries.map((d) => d.id)].sort(),
      );
      const views = await a.listDeliveries({ destination: 'audit', limit: 10 });
      expect(views.map((d) => d.payoutSeq)).to.deep.equal([null, null, null, null]);
    });

    it('never has two deliveries of one line in flight while two instances claim and finish at once', async () => {
      const payouts = ['P1', 'P2', 'P3', 'P4', 'P5'];
      const expected = new Map<string, string[]>();
      for (const cn of payouts)
        expected.set(
          cn,
          (await payout(cn < 'P3' ? a : b, cn, 4)).map(([id]) => id as string),
        );
      const sent: string[] = [];
      const inFlight = new Map<string, string>();
      const worker = async (store: Store, owner: string): Promise<void> => {
        for (let round = 0; round < 40 && sent.length < 20; round++) {
          const claimed = await store.claimDeliveries(claimOptions(owner, { max: 3 }));
          for (const c of claimed) {
            const cn = (c.event as PayoutEvent).controlNumber;
            expect(inFlight.get(cn), `${cn}: ${c.id} claimed while ${inFlight.get(cn)} is in flight`).to.equal(
              undefined,
            );
            inFlight.set(cn, c.id);
          }
          await Promise.all(
            claimed.map(async (c) => {
              sent.push(c.id);
              inFlight.delete((c.event as PayoutEvent).controlNumber);
              await finish(store, c, owner);
            }),
          );
        }
      };
      await Promise.all([worker(a, 'a'), worker(b, 'b')]);
      for (const [cn, line] of expected) {
        expect(
          sent.filter((id) => line.includes(id)),
          `${cn} sent in the order stored`,
        ).to.deep.equal(line);
      }
    });

    it('holds the payout behind a death that holds until it is replayed, which goes first, in its place', async () => {
      const p = (await payout(a, 'P', 3)).map(([id]) => id as string);
      const [head] = await a.claimDeliveries(claimOptions('a'));
      await finish(a, head!, 'a', HOLD);
      expect(await b.claimDeliveries(claimOptions('b')), 'held').to.deep.equal([]);
      expect(await b.nextWakeAt(), 'nothing due while held').to.equal(undefined);
      expect(await b.countWaitingBehind(p[0]!)).to.equal(2);

      const held = await b.listDeliveries({ held: true, limit: 10 });
      expect(held.map((d) => d.id)).to.deep.equal([p[0]]);
      expect(held[0]?.heldSince).to.be.a('string');
      const waiting = await b.listDeliveries({ state: 'pending', limit: 10 });
      expect(waiting.map((d) => [d.id, d.waitingFor])).to.have.deep.members([
        [p[1], p[0]],
        [p[2], p[0]],
      ]);

      expect((await b.replayDeliveries([p[0]!])).requeued).to.deep.equal([p[0]]);
      const [replayed] = await b.claimDeliveries(claimOptions('b'));
      expect(replayed?.id, 'the replay goes before the payout ones waiting').to.equal(p[0]);
      expect(await a.claimDeliveries(claimOptions('a'))).to.deep.equal([]);
      await finish(b, replayed!, 'b');
      const [next] = await a.claimDeliveries(claimOptions('a'));
      expect(next?.id).to.equal(p[1]);
      expect(await a.listDeliveries({ held: true, limit: 10 })).to.deep.equal([]);
    });

    it('lets a held payout go on when its dead delivery is released, which stays dead', async () => {
      const p = (await payout(a, 'P', 2)).map(([id]) => id as string);
      const [head] = await a.claimDeliveries(claimOptions('a'));
      await finish(a, head!, 'a', HOLD);
      expect(await b.releaseHold('dlv_unknown')).to.deep.equal({ released: false, state: undefined });
      expect(await b.releaseHold(p[1]!)).to.deep.equal({ released: false, state: 'pending' });
      expect(await b.releaseHold(p[0]!)).to.deep.equal({ released: true, waiting: 1 });
      expect(await b.releaseHold(p[0]!), 'released once').to.deep.equal({ released: false, state: 'dead' });
      const [next] = await a.claimDeliveries(claimOptions('a'));
      expect(next?.id).to.equal(p[1]);
      const [dead] = await a.listDeliveries({ state: 'dead', limit: 10 });
      expect(dead).to.deep.include({ id: p[0], heldSince: null });
    });

    it('lets the payout go on after a death that does not hold', async () => {
      const p = (await payout(a, 'P', 2)).map(([id]) => id as string);
      const [head] = await a.claimDeliveries(claimOptions('a'));
      await finish(a, head!, 'a', { state: 'dead' });
      const [next] = await b.claimDeliveries(claimOptions('b'));
      expect(next?.id).to.equal(p[1]);
      expect(await b.listDeliveries({ held: true, limit: 10 })).to.deep.equal([]);
    });

    it('hands over at ingest only a delivery whose turn has come, the first of a payout in one group commit', async () => {
      const lease = (owner: string) => ({ owner, untilMs: Date.now() + MINUTE, maxInFlight: () => 10 });
      const first = route('ledger');
      expect((await a.saveEvent(status('P', 1), [first], lease('a'))).leased).to.deep.equal([first.id]);
      const second = route('ledger');
      const audit = route('audit', false);
      const saved = await b.saveEvent(status('P', 2), [second, audit], lease('b'));
      expect(saved.leased, 'the first is in flight: the second waits').to.deep.equal([audit.id]);

      // Two statuses of one payout and one of another in one group commit: the first of each line goes.
      const [r1, r2, r3] = [route('ledger'), route('ledger'), route('ledger')];
      const [s1, s2, s3] = await Promise.all([
        a.saveEvent(status('Q', 1), [r1], lease('a')),
        a.saveEvent(status('Q', 2), [r2], lease('a')),
        a.saveEvent(status('R', 1), [r3], lease('a')),
      ]);
      expect([s1?.leased, s2?.leased, s3?.leased]).to.deep.equal([[r1.id], [], [r3.id]]);
      // P's second waits pending and due, but its turn has not come: it does not count as waiting at the destination.
      const r4 = route('ledger');
      expect((await b.saveEvent(status('S', 1), [r4], lease('b'))).leased).to.deep.equal([r4.id]);

      await a.finishAttempt(
        { id: first.id, eventId: 'x', destination: 'ledger', rules: [], attempt: 1, event: status('P', 1) },
        'a',
        attempt('delivered'),
        DELIVERED,
      );
      const claimed = await b.claimDeliveries(claimOptions('b'));
      expect(ids(claimed), "P's second once its first was delivered; Q's second still waits").to.deep.equal([
        second.id,
      ]);
    });

    it('hands over nothing of a held payout at ingest: the new status waits behind the dead one', async () => {
      const [p1] = (await payout(a, 'P', 1)).map(([id]) => id as string);
      const [head] = await a.claimDeliveries(claimOptions('a'));
      expect(head?.id).to.equal(p1);
      await finish(a, head!, 'a', HOLD);
      const next = route('ledger');
      const saved = await b.saveEvent(status('P', 2), [next], {
        owner: 'b',
        untilMs: Date.now() + MINUTE,
        maxInFlight: () => 10,
      });
      expect(saved.leased).to.deep.equal([]);
      expect(await b.countWaitingBehind(p1!)).to.equal(1);
    });

    it("takes over a delivery whose lease ran out, and the payout's next waits for it", async () => {
      const p = (await payout(a, 'P', 2)).map(([id]) => id as string);
      const now = Date.now();
      const [first] = await a.claimDeliveries(claimOptions('a', { now, leaseMs: 1_000 }));
      expect(first?.id).to.equal(p[0]);
      expect(await b.claimDeliveries(claimOptions('b', { now: now + 500 }))).to.deep.equal([]);
      const taken = await b.claimDeliveries(claimOptions('b', { now: now + 1_500 }));
      expect(taken.map((c) => [c.id, c.attempt])).to.deep.equal([[p[0], 2]]);
      await finish(b, taken[0]!, 'b');
      const [next] = await a.claimDeliveries(claimOptions('a', { now: now + 1_500 }));
      expect(next?.id).to.equal(p[1]);
    });

    it("replays an older delivered status before the payout's later ones still waiting, after the one in flight", async () => {
      const p = (await payout(a, 'P', 3)).map(([id]) => id as string);
      const [one] = await a.claimDeliveries(claimOptions('a'));
      await finish(a, one!, 'a');
      const [two] = await a.claimDeliveries(claimOptions('a'));
      expect(two?.id).to.equal(p[1]);
      await b.replayDeliveries([p[0]!]);
      expect(await b.claimDeliveries(claimOptions('b')), 'one at a time: the second is in flight').to.deep.equal([]);
      await finish(a, two!, 'a');
      const [replayed] = await b.claimDeliveries(claimOptions('b'));
      expect(replayed?.id, 'the replay before the third').to.equal(p[0]);
      await finish(b, replayed!, 'b');
      const [three] = await b.claimDeliveries(claimOptions('b'));
      expect(three?.id).to.equal(p[2]);
    });

    it("gives a replay's new delivery to an ordered destination its event's place, or the next one", async () => {
      const p = (await payout(a, 'P', 2, ['ledger'])).map(([id]) => id as string);
      const [second] = (await a.listDeliveries({ limit: 10 })).filter((d) => d.id === p[1]);
      const plan = () => [route('ledger'), route('archive')];
      const result = await b.replayEvent(second!.eventId, plan);
      expect(result?.created).to.have.length(1);
      const [created] = await a.listDeliveries({ destination: 'archive', limit: 10 });
      expect(created?.payoutSeq, "the event's own place").to.equal(2);
      // An event that never had an ordered delivery takes the payout's next place.
      const loose = status('P', 7);
      await a.saveEvent(loose, [route('audit', false)]);
      await b.replayEvent(loose.id, () => [route('archive')]);
      const archive = await a.listDeliveries({ destination: 'archive', limit: 10 });
      expect(archive.map((d) => d.payoutSeq).sort()).to.deep.equal([2, 3]);
    });

    it('numbers the statuses of one payout stored at once by two instances, one after the other', async () => {
      const saved = await Promise.all(
        Array.from({ length: 20 }, (_, n) => (n % 2 ? a : b).saveEvent(status('P', n + 1), [route('ledger')])),
      );
      expect(new Set(saved.map((s) => s.eventId)).size).to.equal(20);
      const views = await a.listDeliveries({ destination: 'ledger', limit: 50 });
      expect(views.map((d) => d.payoutSeq).sort((x, y) => (x ?? 0) - (y ?? 0))).to.deep.equal(
        Array.from({ length: 20 }, (_, n) => n + 1),
      );
      // And they go out in that order.
      const order: number[] = [];
      for (;;) {
        const claimed = await (order.length % 2 ? a : b).claimDeliveries(claimOptions('w'));
        if (claimed.length === 0) break;
        expect(claimed).to.have.length(1);
        order.push(views.find((v) => v.id === claimed[0]?.id)?.payoutSeq ?? -1);
        await finish(a, claimed[0]!, 'w');
      }
      expect(order).to.deep.equal(Array.from({ length: 20 }, (_, n) => n + 1));
    });

    it("passes a payout's line on at a finish: its next delivery leased to the same owner, in the same commit", async () => {
      const p = (await payout(a, 'P', 3)).map(([id]) => id as string);
      const [first] = await a.claimDeliveries(claimOptions('a'));
      const until = Date.now() + 30_000;
      const passed = await a.finishInLine(first!, 'a', attempt('delivered'), DELIVERED, until);
      expect(passed).to.deep.include({ id: p[1], attempt: 1, destination: 'ledger' });
      expect(passed?.event).to.deep.include({ controlNumber: 'P' });
      // Leased to 'a' already: no claim anywhere finds it, nor the third behind it.
      expect(await b.claimDeliveries(claimOptions('b'))).to.deep.equal([]);
      const views = await b.listDeliveries({ destination: 'ledger', limit: 10 });
      expect(views.find((d) => d.id === p[1])?.state).to.equal('inflight');

      // A retry passes nothing on (the line waits for it), nor does a lease another owner took over.
      const later = Date.now() + MINUTE;
      const retry: DeliveryNext = { state: 'pending', nextAttemptMs: later };
      expect(await a.finishInLine(passed!, 'a', attempt('retry'), retry, until)).to.equal(undefined);
      const [again] = await b.claimDeliveries(claimOptions('b', { now: later }));
      expect(again?.id).to.equal(p[1]);
      expect(await a.finishInLine(again!, 'a', attempt('delivered'), DELIVERED, until)).to.equal(undefined);
      // The owner's finish passes it on; a death that holds passes nothing.
      const third = await b.finishInLine(again!, 'b', attempt('delivered'), DELIVERED, until);
      expect(third?.id).to.equal(p[2]);
      expect(await b.finishInLine(third!, 'b', attempt('dead'), HOLD, until)).to.equal(undefined);
    });

    it("passes nothing on while the destination's breaker holds it: the line's next waits for the breaker", async () => {
      const p = (await payout(a, 'P', 2)).map(([id]) => id as string);
      const [first] = await a.claimDeliveries(claimOptions('a'));
      await b.pauseSends({ destination: 'ledger', now: Date.now(), by: 'contract', reason: 'manual' });
      const passed = await a.finishInLine(first!, 'a', attempt('delivered'), DELIVERED, Date.now() + 30_000);
      expect(passed).to.equal(undefined);
      const views = await a.listDeliveries({ destination: 'ledger', limit: 10 });
      expect(views.find((d) => d.id === p[1])?.state).to.equal('pending');
    });

    it('passes nothing on for an unordered delivery', async () => {
      const [, audit] = (await payout(a, 'P', 1, ['ledger', 'audit']))[0] ?? [];
      await payout(a, 'P', 1, ['audit']);
      const claimed = await a.claimDeliveries(claimOptions('a'));
      const auditFirst = claimed.find((c) => c.id === audit);
      const passed = await a.finishInLine(auditFirst!, 'a', attempt('delivered'), DELIVERED, Date.now() + 30_000);
      expect(passed).to.equal(undefined);
    });

    it('keeps a held dead delivery and its event through retention until released', async () => {
      const [p1] = (await payout(a, 'P', 1)).map(([id]) => id as string);
      const [head] = await a.claimDeliveries(claimOptions('a'));
      await finish(a, head!, 'a', HOLD);
      const cut = { eventsBeforeMs: Date.now() + MINUTE, rejectionsBeforeMs: 0 };
      expect((await a.pruneBatch(cut, 100)).events).to.equal(0);
      await b.releaseHold(p1!);
      expect((await a.pruneBatch(cut, 100)).events).to.equal(1);
    });
  });
}
