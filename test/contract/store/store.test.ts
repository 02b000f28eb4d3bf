/**
 * The Store contract: one suite, written against the interface only, run
 * against every implementation (./factories.ts). Two Store instances on one
 * database stand for two processes or hosts.
 */
import { expect } from 'chai';
import type { PayoutEvent, RelayEvent } from '../../../src/event';
import { ReplayCountChangedError, SilenceEndedError } from '../../../src/store/errors';
import type { Store } from '../../../src/store/store';
import type { ClaimOptions } from '../../../src/delivery/types';
import type { NewRejection } from '../../../src/ingest/types';
import type { NewSilence } from '../../../src/alerts/types';
import type { Sample } from '../../../src/metrics/types';
import { buildFinanceEvent, buildPayoutEvent } from '../../support/fixtures';
import { STORE_FACTORIES, type StoreHarness } from './factories';

const MINUTE = 60_000;
const DAY = 86_400_000;

let serial = 0;
/** A payout with an identity of its own (unless the test passes one), received `ageMs` ago. */
function payout(overrides: Partial<PayoutEvent> = {}, ageMs = MINUTE): PayoutEvent {
  serial += 1;
  return buildPayoutEvent({
    id: `evt_${String(serial).padStart(8, '0')}`,
    controlNumber: `SKC${String(serial).padStart(8, '0')}`,
    receivedAt: new Date(Date.now() - ageMs).toISOString(),
    ...overrides,
  });
}

function delivery(destination: string, id = `dlv_${destination}_${String(++serial).padStart(8, '0')}`) {
  return { id, destination, rules: ['contract'] };
}

function claimOptions(owner: string, overrides: Partial<ClaimOptions> = {}): ClaimOptions {
  return { owner, now: Date.now(), leaseMs: 30_000, maxInFlight: () => 100, max: 100, ...overrides };
}

function rejection(overrides: Partial<NewRejection> = {}): NewRejection {
  serial += 1;
  return {
    id: `rej_${String(serial).padStart(8, '0')}`,
    receivedAt: new Date(),
    remoteAddress: '203.0.113.7',
    method: 'POST',
    path: '/callbacks/skypay',
    contentType: 'application/json',
    status: 401,
    reason: 'unauthenticated',
    description: 'wrong key',
    partner: 'ACME',
    body: '{"authentication":"***"}',
    bodyBytes: 24,
    contentTypeBytes: 16,
    ...overrides,
  };
}

const attempt = (outcome: 'delivered' | 'retry' | 'dead') => ({ startedAt: Date.now(), durationMs: 12, outcome });

for (const factory of STORE_FACTORIES) {
  factory.describe(`Store contract: ${factory.name}`, function () {
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

    describe('ingest', () => {
      it('stores one event for 50 concurrent copies from two instances, and counts 49 duplicates', async () => {
        const first = payout();
        const copies = Array.from({ length: 50 }, (_, i) => ({
          ...first,
          id: `evt_copy_${String(i).padStart(3, '0')}`,
        }));
        const outcomes = await Promise.all(
          copies.map((event, i) => (i % 2 === 0 ? a : b).saveEvent(event, [delivery('ledger', `dlv_copy_${i}`)])),
        );
        const stored = outcomes.filter((o) => !o.duplicate);
        expect(stored).to.have.length(1);
        const eventId = stored[0]?.eventId as string;
        expect(outcomes.every((o) => o.eventId === eventId)).to.equal(true);
        expect(outcomes.filter((o) => o.duplicate && !o.conflict)).to.have.length(49);
        expect(Math.max(...outcomes.map((o) => o.duplicates))).to.equal(49);

        const detail = await b.getEvent(eventId);
        expect(detail?.duplicates).to.equal(49);
        expect(detail?.deliveries.map((d) => d.destination)).to.deep.equal(['ledger']);
        expect(await a.listEvents({ controlNumber: first.controlNumber, limit: 10 })).to.have.length(1);
      });

      it('keeps a conflicting copy once, counts its repeats, and writes no deliveries for it', async () => {
        const first = payout({ referenceNumber: 'REF-1' });
        await a.saveEvent(first, [delivery('ledger')]);
        const other = { ...first, id: 'evt_other', referenceNumber: 'REF-2' };
        const conflict = await b.saveEvent(other, [delivery('ledger')]);
        expect(conflict.duplicate).to.equal(true);
        expect(conflict.eventId).to.equal(first.id);
        expect(conflict.conflict?.repeat).to.equal(false);
        expect(conflict.conflict?.differs).to.deep.equal(['referenceNumber']);

        const again = await a.saveEvent({ ...other, id: 'evt_other_again' }, [delivery('ledger')]);
        expect(again.conflict?.repeat).to.equal(true);
        expect(again.conflict?.copyId).to.equal(conflict.conflict?.copyId);

        const same = await b.saveEvent({ ...first, id: 'evt_same' }, []);
        expect(same).to.deep.include({ duplicate: true, duplicates: 1 });
        expect(same.conflict).to.equal(undefined);

        const detail = await a.getEvent(first.id);
        expect(detail?.deliveries).to.have.length(1);
        expect(detail?.conflicts).to.have.length(1);
        expect(detail?.conflicts[0]).to.deep.include({ repeats: 1, differs: ['referenceNumber'] });
        expect(detail?.conflicts[0]?.copy.referenceNumber).to.equal('REF-2');
      });

      it('dedups a finance notification by (partner, referenceNumber, accountNo, statementType), apart from payouts', async () => {
        serial += 1;
        const reference = `D-${serial}`;
        const first = buildFinanceEvent({ id: `evt_fin_${serial}`, referenceNumber: reference });
        expect(await a.saveEvent(first, [delivery('ledger')])).to.deep.include({ duplicate: false });
        const copy = await b.saveEvent({ ...first, id: `evt_fin_${serial}_copy` }, [delivery('ledger')]);
        expect(copy).to.deep.include({ eventId: first.id, duplicate: true, duplicates: 1 });
        expect(copy.conflict).to.equal(undefined);

        const changed = await b.saveEvent({ ...first, id: `evt_fin_${serial}_amount`, amount: 1 }, [
          delivery('ledger'),
        ]);
        expect(changed.conflict?.differs).to.deep.equal(['amount']);
        expect(changed.eventId).to.equal(first.id);

        // A transfer notifies both accounts under one reference; another statement type is another booking.
        const otherAccount = { ...first, id: `evt_fin_${serial}_acct`, accountNo: '009999999999' };
        const otherStatement = { ...first, id: `evt_fin_${serial}_stmt`, statementType: 3 as const };
        expect((await a.saveEvent(otherAccount, [])).duplicate).to.equal(false);
        expect((await a.saveEvent(otherStatement, [])).duplicate).to.equal(false);
        // A payout whose control number is the reference number, and payType the statement type, is its own event.
        const lookalike = payout({ controlNumber: reference, payType: 1, status: 'upload', dealTime: first.accountNo });
        expect((await b.saveEvent(lookalike, [])).duplicate).to.equal(false);

        const detail = await a.getEvent(first.id);
        expect(detail?.event).to.deep.include({ type: 'finance', amount: 12000000, referenceNumber: reference });
        expect(detail?.duplicates).to.equal(1);
        expect(detail?.deliveries).to.have.length(1);
        expect(detail?.conflicts.map((c) => c.differs)).to.deep.equal([['amount']]);
        const listed = await b.listEvents({ type: 'finance', limit: 10 });
        expect(listed.map((e) => e.id)).to.include.members([first.id, otherAccount.id, otherStatement.id]);
        expect(listed.find((e) => e.id === first.id)).to.include({ controlNumber: null, partner: first.partner });
      });

      it('commits the other events of a group commit when one of them fails', async () => {
        const [first, clash, third] = [payout(), payout(), payout()];
        // Submitted in one turn, so they share a group commit; the second reuses the first's delivery id.
        const results = await Promise.allSettled([
          a.saveEvent(first, [delivery('ledger', 'dlv_group_1')]),
          a.saveEvent(clash, [delivery('ledger', 'dlv_group_1')]),
          a.saveEvent(third, [delivery('ledger', 'dlv_group_3')]),
        ]);
        expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
        expect(await b.getEvent(first.id)).to.not.equal(undefined);
        expect(await b.getEvent(clash.id), 'nothing of the failed one').to.equal(undefined);
        expect((await b.getEvent(third.id))?.deliveries.map((d) => d.id)).to.deep.equal(['dlv_group_3']);
        const retried = await b.saveEvent({ ...clash, id: 'evt_clash_again' }, [delivery('ledger', 'dlv_group_2')]);
        expect(retried.duplicate, 'its identity was not taken').to.equal(false);
      });

      it('tells identities apart by partner, and keeps extra fields as the exact JSON sent', async () => {
        const first = payout();
        await a.saveEvent(first, []);
        const otherPartner = await b.saveEvent({ ...first, id: 'evt_other_partner', partner: 'Other' }, []);
        expect(otherPartner.duplicate).to.equal(false);
        const detail = await b.getEvent(first.id);
        expect(detail?.event).to.deep.include({ controlNumber: first.controlNumber, partner: first.partner });
        expect((detail?.event as PayoutEvent).extra).to.deep.equal(first.extra);
      });
    });

    describe('outbox', () => {
      async function seed(store: Store, n: number, destination = 'ledger'): Promise<string[]> {
        const ids: string[] = [];
        for (let i = 0; i < n; i++) {
          const d = delivery(destination);
          await store.saveEvent(payout(), [d]);
          ids.push(d.id);
        }
        return ids;
      }

      it('leases each due delivery to exactly one of two workers claiming at once', async () => {
        const ids = await seed(a, 30);
        const claimed: string[][] = [[], []];
        for (let round = 0; round < 10; round++) {
          const [fromA, fromB] = await Promise.all([
            a.claimDeliveries(claimOptions('worker-a', { max: 4 })),
            b.claimDeliveries(claimOptions('worker-b', { max: 4 })),
          ]);
          claimed[0]?.push(...fromA.map((d) => d.id));
          claimed[1]?.push(...fromB.map((d) => d.id));
        }
        const all = [...(claimed[0] ?? []), ...(claimed[1] ?? [])];
        expect(new Set(all).size, 'no delivery claimed twice').to.equal(all.length);
        expect([...all].sort()).to.deep.equal([...ids].sort());
        expect(await a.claimDeliveries(claimOptions('worker-a'))).to.deep.equal([]);
      });

      it('hands the claimed delivery its event and attempt number', async () => {
        const event = payout();
        await a.saveEvent(event, [delivery('ledger', 'dlv_shape')]);
        const [claimed] = await b.claimDeliveries(claimOptions('worker-b'));
        expect(claimed).to.deep.include({ id: 'dlv_shape', eventId: event.id, destination: 'ledger', attempt: 1 });
        expect(claimed?.rules).to.deep.equal(['contract']);
        expect(claimed?.event).to.deep.include({ id: event.id, controlNumber: event.controlNumber });
      });

      it('holds maxInFlight per destination across instances', async () => {
        await seed(a, 10, 'slow');
        await seed(a, 2, 'fast');
        const limit = { maxInFlight: (d: string) => (d === 'slow' ? 3 : 10), max: 10 };
        const [fromA, fromB] = await Promise.all([
          a.claimDeliveries(claimOptions('worker-a', limit)),
          b.claimDeliveries(claimOptions('worker-b', limit)),
        ]);
        const all = [...fromA, ...fromB];
        expect(all.filter((d) => d.destination === 'slow')).to.have.length(3);
        expect(all.filter((d) => d.destination === 'fast')).to.have.length(2);
      });

      it('finds a destination with room behind a long backlog of a saturated one', async () => {
        // Older than anything of 'fast': a claim that read the oldest due rows first would see only these.
        await seed(a, 40, 'slow');
        await seed(a, 1, 'fast');
        const limit = { maxInFlight: (d: string) => (d === 'slow' ? 1 : 10), max: 2 };
        const first = await a.claimDeliveries(claimOptions('worker-a', limit));
        expect(first.map((d) => d.destination).sort()).to.deep.equal(['fast', 'slow']);
        // 'slow' is at its limit now: 39 of its deliveries are due, and none is claimed (nor hides anything).
        await seed(a, 1, 'fast');
        const second = await b.claimDeliveries(claimOptions('worker-b', limit));
        expect(second.map((d) => d.destination)).to.deep.equal(['fast']);
      });

      it('writes deliveries leased to the ingesting worker as far as each maxInFlight allows, across instances', async () => {
        const now = Date.now();
        const lease = (owner: string) => ({
          owner,
          untilMs: now + 1_000,
          maxInFlight: (d: string) => (d === 'slow' ? 2 : 10),
        });
        await seed(b, 1, 'slow');
        const [claimedByB] = await b.claimDeliveries(claimOptions('worker-b', { now }));
        const first = payout();
        const saved = await a.saveEvent(
          first,
          [delivery('slow', 'dlv_slow_1'), delivery('fast', 'dlv_fast_1')],
          lease('a'),
        );
        expect(saved.leased).to.deep.equal(['dlv_slow_1', 'dlv_fast_1']);
        // 'slow' holds 2 now (one claimed by b, one leased to a): the next is written pending, in one group commit too.
        const [second, third] = await Promise.all([
          b.saveEvent(payout(), [delivery('slow', 'dlv_slow_2')], lease('b')),
          b.saveEvent(payout(), [delivery('fast', 'dlv_fast_2')], lease('b')),
        ]);
        expect(second?.leased).to.deep.equal([]);
        expect(third?.leased).to.deep.equal(['dlv_fast_2']);
        const duplicate = await b.saveEvent(
          { ...first, id: 'evt_dup' },
          [delivery('slow', 'dlv_slow_dup')],
          lease('b'),
        );
        expect(duplicate.duplicate).to.equal(true);
        expect(duplicate.leased ?? []).to.deep.equal([]);

        // Nobody claims a leased one while its lease runs; the pending one waits for a free 'slow' slot.
        const limit = { now, maxInFlight: (d: string) => (d === 'slow' ? 2 : 10) };
        expect(await b.claimDeliveries(claimOptions('worker-c', limit))).to.deep.equal([]);
        await b.finishAttempt(claimedByB!, 'worker-b', attempt('delivered'), { state: 'delivered' });
        const [freed] = await a.claimDeliveries(claimOptions('worker-c', limit));
        expect(freed).to.deep.include({ id: 'dlv_slow_2', attempt: 1 });

        // Leased at ingest is a first attempt in flight: finished by its owner, or taken over once the lease ends.
        const asClaimed = { id: 'dlv_fast_1', eventId: first.id, destination: 'fast', rules: ['contract'], attempt: 1 };
        await a.finishAttempt({ ...asClaimed, event: first }, 'a', attempt('delivered'), { state: 'delivered' });
        const taken = await a.claimDeliveries(claimOptions('worker-c', { now: now + 1_500 }));
        expect(taken.map((d) => [d.id, d.attempt])).to.deep.equal([
          ['dlv_slow_1', 2],
          ['dlv_fast_2', 2],
        ]);
      });

      it('hands off past maxInFlight, up to handOff, only while no other owner holds a live lease on the destination', async () => {
        const lease = (owner: string) => ({
          owner,
          untilMs: Date.now() + 60_000,
          maxInFlight: () => 2,
          handOff: () => 5,
        });
        const leased: string[] = [];
        for (let n = 1; n <= 6; n++) {
          const saved = await a.saveEvent(payout(), [delivery('hook', `dlv_hook_${n}`)], lease('a'));
          leased.push(...(saved.leased ?? []));
        }
        // Five leased to a (twice its maxInFlight and more), the sixth written pending.
        expect(leased).to.deep.equal(['dlv_hook_1', 'dlv_hook_2', 'dlv_hook_3', 'dlv_hook_4', 'dlv_hook_5']);
        expect((await b.listDeliveries({ state: 'pending', limit: 10 })).map((d) => d.id)).to.deep.equal([
          'dlv_hook_6',
        ]);
        // Another process counts all five as in flight: its claims take nothing for 'hook'.
        expect(await b.claimDeliveries(claimOptions('worker-b', { maxInFlight: () => 2 }))).to.deep.equal([]);
        // b holds a live lease on 'shared': a gets no more than maxInFlight there.
        await seed(b, 1, 'shared');
        await b.claimDeliveries(claimOptions('worker-b', { maxInFlight: () => 2 }));
        const onShared: string[] = [];
        for (let n = 1; n <= 3; n++) {
          const saved = await a.saveEvent(payout(), [delivery('shared', `dlv_shared_${n}`)], lease('a'));
          onShared.push(...(saved.leased ?? []));
        }
        expect(onShared).to.deep.equal(['dlv_shared_1']);
      });

      it("hands off again once the other owner's lease has ended", async () => {
        await seed(b, 1, 'hook');
        // b's lease ends at once (as a crashed process's does): then it counts for nobody.
        const [held] = await b.claimDeliveries(claimOptions('worker-b', { leaseMs: 1 }));
        expect(held?.destination).to.equal('hook');
        const ended = Date.now() + 2;
        while (Date.now() <= ended) await new Promise((resolve) => setImmediate(resolve));
        const lease = { owner: 'a', untilMs: Date.now() + 60_000, maxInFlight: () => 1, handOff: () => 3 };
        const leased: string[] = [];
        for (let n = 1; n <= 3; n++) {
          const saved = await a.saveEvent(payout(), [delivery('hook', `dlv_after_${n}`)], lease);
          leased.push(...(saved.leased ?? []));
        }
        expect(leased).to.deep.equal(['dlv_after_1', 'dlv_after_2', 'dlv_after_3']);
      });

      it('leases nothing at ingest for a destination whose deliveries wait already: they go first', async () => {
        const lease = { owner: 'a', untilMs: Date.now() + 60_000, maxInFlight: () => 10 };
        await seed(b, 1, 'slow');
        const saved = await a.saveEvent(
          payout(),
          [delivery('slow', 'dlv_behind'), delivery('fast', 'dlv_free')],
          lease,
        );
        expect(saved.leased).to.deep.equal(['dlv_free']);
      });

      it('returns deliveries leased at ingest to the queue at once when released, attempt not counted', async () => {
        const now = Date.now();
        const lease = { owner: 'a', untilMs: now + 60_000, maxInFlight: () => 10 };
        const saved = await a.saveEvent(payout(), [delivery('ledger', 'dlv_handed')], lease);
        expect(saved.leased).to.deep.equal(['dlv_handed']);
        expect(await b.claimDeliveries(claimOptions('worker-b'))).to.deep.equal([]);
        await a.releaseLeases('a', ['dlv_handed']);
        const [again] = await b.claimDeliveries(claimOptions('worker-b'));
        expect(again).to.deep.include({ id: 'dlv_handed', attempt: 1 });
      });

      it('lets another worker take a delivery whose lease expired, and ignores the old owner finishing it', async () => {
        const [id] = await seed(a, 1);
        const now = Date.now();
        const [first] = await a.claimDeliveries(claimOptions('worker-a', { now, leaseMs: 1_000 }));
        expect(first?.id).to.equal(id);
        expect(await b.claimDeliveries(claimOptions('worker-b', { now: now + 500 }))).to.deep.equal([]);

        const [taken] = await b.claimDeliveries(claimOptions('worker-b', { now: now + 1_500 }));
        expect(taken).to.deep.include({ id, attempt: 2 });
        await a.finishAttempt(first!, 'worker-a', attempt('delivered'), { state: 'delivered' });
        let [view] = await a.listDeliveries({ limit: 10 });
        expect(view?.state, 'the old owner cannot finish it').to.equal('inflight');

        await b.finishAttempt(taken!, 'worker-b', attempt('delivered'), { state: 'delivered' });
        [view] = await a.listDeliveries({ limit: 10 });
        expect(view?.state).to.equal('delivered');
        expect(await a.nextWakeAt()).to.equal(undefined);
      });

      it('moves a retried delivery on to its next attempt time', async () => {
        await seed(a, 1);
        const [claimed] = await a.claimDeliveries(claimOptions('worker-a'));
        const nextAttemptMs = Date.now() + 60_000;
        await a.finishAttempt(claimed!, 'worker-a', attempt('retry'), { state: 'pending', nextAttemptMs });
        expect(await b.nextWakeAt()).to.equal(nextAttemptMs);
        expect(await b.claimDeliveries(claimOptions('worker-b'))).to.deep.equal([]);
        const [later] = await b.claimDeliveries(claimOptions('worker-b', { now: nextAttemptMs }));
        expect(later?.attempt).to.equal(2);
        const detail = await a.getEvent(claimed!.eventId);
        expect(detail?.deliveries[0]?.attemptLog.map((x) => x.outcome)).to.deep.equal(['retry']);
      });

      it('renews a lease so nobody takes it, and releases unstarted ones back to pending, attempt not counted', async () => {
        const [id] = await seed(a, 1);
        const now = Date.now();
        const [claimed] = await a.claimDeliveries(claimOptions('worker-a', { now, leaseMs: 1_000 }));
        await a.renewLeases('worker-a', [id!], now + 10_000);
        expect(await b.claimDeliveries(claimOptions('worker-b', { now: now + 5_000 }))).to.deep.equal([]);
        expect(await a.nextWakeAt()).to.equal(now + 10_000);

        await b.releaseLeases('worker-b', [id!]);
        expect(
          await b.claimDeliveries(claimOptions('worker-b', { now: now + 5_000 })),
          'not b to release',
        ).to.deep.equal([]);
        await a.releaseLeases('worker-a', [claimed!.id]);
        const [again] = await b.claimDeliveries(claimOptions('worker-b'));
        expect(again).to.deep.include({ id, attempt: 1 });
      });

      it('offers onNewWork with an unsubscribe', () => {
        const unsubscribe = a.onNewWork(() => undefined);
        expect(unsubscribe).to.be.a('function');
        unsubscribe();
      });
    });

    describe('inspect', () => {
      it('lists events newest first by id, filtered, and pages by cursor', async () => {
        const ids = ['evt_p1', 'evt_p2', 'evt_p3', 'evt_p4', 'evt_p5'];
        for (const [i, id] of ids.entries()) {
          await a.saveEvent(
            payout({ id, controlNumber: `SKPAGE${i}`, ...(i % 2 ? {} : { payType: 2, status: 'paid' }) }),
            [delivery('ledger')],
          );
        }
        const page1 = await b.listEvents({ limit: 2 });
        expect(page1.map((e) => e.id)).to.deep.equal(['evt_p5', 'evt_p4']);
        const page2 = await b.listEvents({ limit: 2, before: page1[1]?.id });
        expect(page2.map((e) => e.id)).to.deep.equal(['evt_p3', 'evt_p2']);
        const page3 = await b.listEvents({ limit: 2, before: page2[1]?.id });
        expect(page3.map((e) => e.id)).to.deep.equal(['evt_p1']);

        expect((await b.listEvents({ status: 'paid', limit: 10 })).map((e) => e.id)).to.deep.equal([
          'evt_p5',
          'evt_p3',
          'evt_p1',
        ]);
        expect((await b.listEvents({ controlNumber: 'SKPAGE1', limit: 10 })).map((e) => e.id)).to.deep.equal([
          'evt_p2',
        ]);
        expect(await b.listEvents({ sinceMs: Date.now() + DAY, limit: 10 })).to.deep.equal([]);
        const [summary] = await b.listEvents({ limit: 1 });
        expect(summary).to.deep.include({ type: 'payout', source: 'skypay', status: 'paid', duplicates: 0 });
        expect(summary?.deliveries).to.deep.equal({ pending: 1, inflight: 0, delivered: 0, dead: 0 });
        expect((await b.findEventsByControlNumber('SKPAGE3')).map((d) => d.event.id)).to.deep.equal(['evt_p4']);
        expect(await b.getEvent('evt_none')).to.equal(undefined);
      });

      it('lists deliveries by state and destination, newest first, and the queue state', async () => {
        await a.saveEvent(payout(), [delivery('ledger', 'dlv_q1'), delivery('slack', 'dlv_q2')]);
        await a.saveEvent(payout(), [delivery('ledger', 'dlv_q3')]);
        const [claimed] = await a.claimDeliveries(claimOptions('worker-a', { max: 1 }));
        await a.finishAttempt(claimed!, 'worker-a', attempt('dead'), { state: 'dead' });

        expect((await b.listDeliveries({ limit: 10 })).map((d) => d.id)).to.deep.equal(['dlv_q3', 'dlv_q2', 'dlv_q1']);
        expect((await b.listDeliveries({ destination: 'ledger', limit: 1 })).map((d) => d.id)).to.deep.equal([
          'dlv_q3',
        ]);
        expect(
          (await b.listDeliveries({ destination: 'ledger', limit: 1, before: 'dlv_q3' })).map((d) => d.id),
        ).to.deep.equal(['dlv_q1']);
        const dead = await b.listDeliveries({ state: 'dead', limit: 10 });
        expect(dead.map((d) => d.id)).to.deep.equal([claimed!.id]);
        expect(dead[0]).to.deep.include({ attempts: 1, eventType: 'skypay.payout', state: 'dead' });

        const queue = await b.readQueueState();
        const count = (destination: string, state: string) =>
          queue.byDestination.find((r) => r.destination === destination && r.state === state)?.count ?? 0;
        expect(count(claimed!.destination, 'dead')).to.equal(1);
        expect(count('ledger', 'pending') + count('slack', 'pending')).to.equal(2);
        expect(queue.oldestUnfinishedMs).to.be.a('number');

        // Delivered ones are history, not queue: /metrics counts every state it is given as waiting or dead.
        const [next] = await a.claimDeliveries(claimOptions('worker-a', { max: 1 }));
        await a.finishAttempt(next!, 'worker-a', attempt('delivered'), { state: 'delivered' });
        const after = await b.readQueueState();
        expect(after.byDestination.map((r) => r.state)).to.not.include('delivered');
        expect(after.byDestination.reduce((n, r) => n + r.count, 0)).to.equal(2);
      });

      it('keeps rejections, lists them by reason newest first with paging, and adds suppressed counts', async () => {
        const kept = [rejection(), rejection({ reason: 'invalid', status: 400 }), rejection()];
        await Promise.all(kept.map((r) => a.saveRejection(r)));
        await a.addSuppressed([{ rejectionId: kept[2]!.id, count: 7 }]);
        await b.addSuppressed([{ rejectionId: kept[2]!.id, count: 3 }]);

        const all = await b.listRejections({ limit: 10 });
        expect(all.map((r) => r.id)).to.deep.equal([kept[2]!.id, kept[1]!.id, kept[0]!.id]);
        expect(all[0]).to.deep.include({ reason: 'unauthenticated', status: 401, partner: 'ACME', suppressed: 10 });
        expect(all[0]).to.not.have.property('body');
        const byReason = await b.listRejections({ reason: 'unauthenticated', limit: 1 });
        expect(byReason.map((r) => r.id)).to.deep.equal([kept[2]!.id]);
        const next = await b.listRejections({ reason: 'unauthenticated', limit: 1, before: byReason[0]!.id });
        expect(next.map((r) => r.id)).to.deep.equal([kept[0]!.id]);
      });

      it('shows one rejection with its kept body and content type, and their sizes before cutting', async () => {
        const kept = rejection({
          contentType: `text/x-${'a'.repeat(249)}`,
          contentTypeBytes: 15_007,
          body: '{"authentication":"***","payType":"0"}',
          bodyBytes: 102_400,
        });
        await a.saveRejection(kept);
        const bare = rejection({
          contentType: undefined,
          contentTypeBytes: undefined,
          body: undefined,
          bodyBytes: undefined,
        });
        await a.saveRejection(bare);

        expect(await b.getRejection(kept.id)).to.deep.equal({
          id: kept.id,
          receivedAt: kept.receivedAt.toISOString(),
          remoteAddress: '203.0.113.7',
          method: 'POST',
          path: '/callbacks/skypay',
          status: 401,
          reason: 'unauthenticated',
          partner: 'ACME',
          description: 'wrong key',
          suppressed: 0,
          contentType: kept.contentType,
          contentTypeBytes: 15_007,
          body: '{"authentication":"***","payType":"0"}',
          bodyBytes: 102_400,
        });
        expect(await b.getRejection(bare.id)).to.deep.include({
          contentType: null,
          contentTypeBytes: null,
          body: null,
          bodyBytes: null,
        });
        expect(await b.getRejection('rej_none')).to.equal(undefined);
      });

      it("lists a payout's callback identities, oldest first, and keeps them after their event is pruned", async () => {
        const first = payout({ payType: 1, status: 'upload' }, 100 * DAY);
        const paid = payout({ controlNumber: first.controlNumber, payType: 2, status: 'paid' }, 99 * DAY);
        const otherPartner = payout({ controlNumber: first.controlNumber, partner: 'Other', payType: 2 }, 98 * DAY);
        for (const e of [first, paid, otherPartner]) await a.saveEvent(e, []);
        await a.saveEvent({ ...paid, id: 'evt_paid_again' }, []);
        await a.saveEvent(payout(), []);

        const identity = (e: PayoutEvent) => ({
          partner: e.partner,
          controlNumber: e.controlNumber,
          payType: e.payType,
          dealTime: e.dealTime,
          eventId: e.id,
          receivedAt: e.receivedAt,
        });
        const all = [first, paid, otherPartner].map(identity);
        expect(await b.findCallbackIdentities(first.controlNumber)).to.deep.equal(all);

        await b.pruneBatch({ eventsBeforeMs: Date.now() - DAY, rejectionsBeforeMs: 0 }, 500);
        expect(await a.findEventsByControlNumber(first.controlNumber)).to.deep.equal([]);
        expect(await a.findCallbackIdentities(first.controlNumber), 'dedup outlives the events').to.deep.equal(all);
        await b.pruneBatch({ eventsBeforeMs: 0, rejectionsBeforeMs: 0, keysBeforeMs: Date.now() - DAY }, 500);
        expect(await a.findCallbackIdentities(first.controlNumber)).to.deep.equal([]);
        expect(await a.findCallbackIdentities('SKNOSUCHPAYOUT')).to.deep.equal([]);
      });
    });

    describe('dashboard', () => {
      it('filters events by partner and by a time range', async () => {
        await a.saveEvent(payout({ id: 'evt_t1', partner: 'ACME@skypay' }, 3 * MINUTE), []);
        await a.saveEvent(payout({ id: 'evt_t2', partner: 'OTHER@skypay' }, 2 * MINUTE), []);
        await a.saveEvent(payout({ id: 'evt_t3', partner: 'ACME@skypay' }, 0), []);
        const ids = async (f: Parameters<Store['listEvents']>[0]) => (await b.listEvents(f)).map((e) => e.id);
        expect(await ids({ partner: 'ACME@skypay', limit: 10 })).to.deep.equal(['evt_t3', 'evt_t1']);
        expect(await ids({ untilMs: Date.now() - 90_000, limit: 10 })).to.deep.equal(['evt_t2', 'evt_t1']);
        const range = { sinceMs: Date.now() - 150_000, untilMs: Date.now() - 30_000, limit: 10 };
        expect(await ids(range)).to.deep.equal(['evt_t2']);
        expect(await ids({ ...range, partner: 'ACME@skypay' })).to.deep.equal([]);
      });

      it('sums callbacks per minute across processes, reads from an instant on, and drops old minutes', async () => {
        const now = Math.floor(Date.now() / MINUTE) * MINUTE;
        await a.addCallbackMinutes(
          [
            { minuteMs: now - 3 * 60 * MINUTE, outcome: 'accepted', count: 9 },
            { minuteMs: now - MINUTE, outcome: 'accepted', count: 2 },
            { minuteMs: now, outcome: 'rejected', count: 1 },
          ],
          now - 4 * 60 * MINUTE,
        );
        await b.addCallbackMinutes(
          [
            { minuteMs: now - MINUTE, outcome: 'accepted', count: 3 },
            { minuteMs: now, outcome: 'duplicate', count: 4 },
          ],
          now - 2 * 60 * MINUTE,
        );
        expect(await a.readCallbackMinutes(now - 60 * MINUTE)).to.deep.equal([
          { minuteMs: now - MINUTE, outcome: 'accepted', count: 5 },
          { minuteMs: now, outcome: 'duplicate', count: 4 },
          { minuteMs: now, outcome: 'rejected', count: 1 },
        ]);
        // b's prune dropped the minute three hours back, which a had kept.
        expect(await b.readCallbackMinutes(0)).to.have.length(3);
      });

      it('keeps a signed-out session ended for every instance until it expires, then forgets it', async () => {
        const now = Date.now();
        expect(await b.isSessionEnded('sess_a')).to.equal(false);
        await a.endSession('sess_a', now + MINUTE, now);
        await a.endSession('sess_a', now + MINUTE, now);
        await a.endSession('sess_b', now + 2 * MINUTE, now);
        expect(await b.isSessionEnded('sess_a')).to.equal(true);
        expect(await b.isSessionEnded('sess_other')).to.equal(false);
        // A later sign-out drops the records of sessions that have expired since.
        await b.endSession('sess_c', now + 3 * MINUTE, now + MINUTE);
        expect(await a.isSessionEnded('sess_a')).to.equal(false);
        expect(await a.isSessionEnded('sess_b')).to.equal(true);
      });

      it("tells each destination's last success and last failed attempt", async () => {
        expect(await b.readDestinationActivity()).to.deep.equal([]);
        await a.saveEvent(payout(), [delivery('ledger'), delivery('slack')]);
        await a.saveEvent(payout(), [delivery('ledger')]);
        const claimed = await a.claimDeliveries(claimOptions('worker-a'));
        const started = Date.now() - 5_000;
        for (const [i, d] of claimed.entries()) {
          const failed = d.destination === 'slack' || i === 0;
          const record = failed
            ? { startedAt: started + i, durationMs: 3, outcome: 'dead' as const, status: 400, error: `HTTP 400 #${i}` }
            : { startedAt: started + i, durationMs: 3, outcome: 'delivered' as const, status: 200 };
          await a.finishAttempt(d, 'worker-a', record, { state: failed ? 'dead' : 'delivered' });
        }
        const activity = await b.readDestinationActivity();
        expect(activity.map((r) => r.destination)).to.deep.equal(['ledger', 'slack']);
        const slack = activity[1]!;
        expect(slack).to.deep.include({ lastSuccessAt: null, lastErrorStatus: 400 });
        expect(slack.lastError).to.match(/^HTTP 400 #\d$/);
        const ledger = activity[0]!;
        expect(ledger.lastSuccessAt).to.be.a('string');
        expect(Date.parse(ledger.lastSuccessAt!)).to.be.within(started, started + 10);
        expect(ledger.lastErrorAt === null || Date.parse(ledger.lastErrorAt) >= started).to.equal(true);
      });
    });

    describe('replay', () => {
      async function finished(store: Store, state: 'delivered' | 'dead', destination = 'ledger'): Promise<string> {
        const d = delivery(destination);
        await store.saveEvent(payout(), [d]);
        const [claimed] = await store.claimDeliveries(
          claimOptions('worker', { maxInFlight: (x) => (x === destination ? 100 : 0) }),
        );
        expect(claimed?.id).to.equal(d.id);
        await store.finishAttempt(claimed!, 'worker', attempt(state), { state });
        return d.id;
      }

      it('requeues finished deliveries by id with a fresh budget, and skips queued or unknown ones', async () => {
        const dead = await finished(a, 'dead');
        const pending = delivery('ledger');
        await a.saveEvent(payout(), [pending]);
        const result = await b.replayDeliveries([dead, pending.id, 'dlv_none']);
        expect(result.requeued).to.deep.equal([dead]);
        expect(result.skipped).to.deep.equal([
          { id: pending.id, reason: 'already pending' },
          { id: 'dlv_none', reason: 'no such delivery' },
        ]);
        const [view] = await a.listDeliveries({ state: 'pending', limit: 10, before: pending.id });
        expect(view).to.deep.include({ id: dead, attempts: 0 });
      });

      it('replays matching deliveries only when the confirmed count still holds', async () => {
        const first = await finished(a, 'delivered');
        await finished(a, 'delivered', 'slack');
        expect(await b.countReplayable({ state: 'delivered' })).to.equal(2);
        expect(await b.countReplayable({ state: 'delivered', destination: 'ledger' })).to.equal(1);

        const refused = await b.replayMatching({ state: 'delivered', confirm: 3 }).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(refused).to.be.instanceOf(ReplayCountChangedError);
        expect(refused).to.deep.include({ confirmed: 3, count: 2 });
        expect(await b.countReplayable({ state: 'delivered' }), 'nothing requeued').to.equal(2);

        const result = await b.replayMatching({ state: 'delivered', destination: 'ledger', confirm: 1 });
        expect(result.requeued).to.deep.equal([first]);
        expect(await a.countReplayable({ state: 'delivered' })).to.equal(1);
      });

      it('replays an event to the destinations the plan chooses now', async () => {
        const d = delivery('ledger');
        const event = payout();
        await a.saveEvent(event, [d]);
        const [claimed] = await a.claimDeliveries(claimOptions('worker'));
        await a.finishAttempt(claimed!, 'worker', attempt('delivered'), { state: 'delivered' });

        const seen: RelayEvent[] = [];
        const result = await b.replayEvent(event.id, (e) => {
          seen.push(e);
          return [
            { id: 'dlv_planned_ledger', destination: 'ledger', rules: ['again'] },
            { id: 'dlv_planned_slack', destination: 'slack', rules: ['new'] },
          ];
        });
        expect(seen[0]?.id).to.equal(event.id);
        expect(result).to.deep.equal({ requeued: [d.id], created: ['dlv_planned_slack'], skipped: [] });
        const detail = await a.getEvent(event.id);
        expect(detail?.deliveries.map((x) => [x.destination, x.state, x.rules])).to.deep.equal([
          ['ledger', 'pending', ['again']],
          ['slack', 'pending', ['new']],
        ]);
        expect(await b.replayEvent('evt_none', () => [])).to.equal(undefined);
      });
    });

    describe('retention', () => {
      it('prunes old finished events in batches, never one with an unfinished delivery, and keeps dedup keys', async () => {
        const finishedEvent = payout({}, 100 * DAY);
        const unfinishedEvent = payout({}, 100 * DAY);
        const recent = payout();
        await a.saveEvent(finishedEvent, [delivery('ledger', 'dlv_old_done')]);
        await a.saveEvent(unfinishedEvent, [delivery('slack', 'dlv_old_pending')]);
        await a.saveEvent(recent, []);
        const [claimed] = await a.claimDeliveries(
          claimOptions('worker', { maxInFlight: (x) => (x === 'ledger' ? 1 : 0) }),
        );
        await a.finishAttempt(claimed!, 'worker', attempt('delivered'), { state: 'delivered' });
        const old = rejection({ receivedAt: new Date(Date.now() - 40 * DAY) });
        await a.saveRejection(old);
        await a.saveRejection(rejection());

        const cut = { eventsBeforeMs: Date.now() - 90 * DAY, rejectionsBeforeMs: Date.now() - 30 * DAY };
        expect(await b.countPrunable(cut)).to.deep.equal({ events: 1, rejections: 1 });
        const counts = await b.pruneBatch(cut, 500);
        expect(counts).to.deep.equal({ events: 1, deliveries: 1, attempts: 1, rejections: 1, keys: 0 });
        expect(await b.pruneBatch(cut, 500)).to.deep.equal({
          events: 0,
          deliveries: 0,
          attempts: 0,
          rejections: 0,
          keys: 0,
        });

        expect(await a.getEvent(finishedEvent.id)).to.equal(undefined);
        expect((await a.getEvent(unfinishedEvent.id))?.deliveries.map((d) => d.state)).to.deep.equal(['pending']);
        expect(await a.getEvent(recent.id)).to.not.equal(undefined);
        expect((await a.listRejections({ limit: 10 })).map((r) => r.id)).to.not.include(old.id);

        const replayed = await a.saveEvent({ ...finishedEvent, id: 'evt_replayed_after_prune' }, [delivery('ledger')]);
        expect(replayed).to.deep.include({ duplicate: true, eventId: finishedEvent.id, duplicates: 0 });

        const keys = await b.pruneBatch({ ...cut, keysBeforeMs: Date.now() - 90 * DAY }, 500);
        expect(keys.keys, 'only the key of the pruned event').to.equal(1);
        const fresh = await a.saveEvent({ ...finishedEvent, id: 'evt_after_key_pruned' }, []);
        expect(fresh.duplicate).to.equal(false);
      });
    });

    describe('silences', () => {
      function silence(overrides: Partial<NewSilence> = {}): NewSilence {
        serial += 1;
        const now = Date.now();
        return {
          id: `sil_${String(serial).padStart(8, '0')}`,
          matchers: { payType: ['failure', 'amendedFailure'], failDescription: { contains: 'closed' } },
          destinations: null,
          startsAtMs: now,
          endsAtMs: now + 2 * 3_600_000,
          createdBy: 'alice',
          createdAtMs: now,
          comment: 'channel outage, ticket 123',
          createdVia: 'admin token 0a1b2c3d',
          createdFrom: '192.0.2.7',
          ...overrides,
        };
      }

      it('keeps a silence with its audit, lists it newest first with paging, and shows it to another instance', async () => {
        const first = silence({ destinations: ['ledger'] });
        const made = await a.createSilence(first);
        expect(made).to.deep.equal({
          id: first.id,
          matchers: first.matchers,
          destinations: ['ledger'],
          startsAt: new Date(first.startsAtMs).toISOString(),
          endsAt: new Date(first.endsAtMs).toISOString(),
          createdBy: 'alice',
          createdAt: new Date(first.createdAtMs).toISOString(),
          comment: 'channel outage, ticket 123',
          expiredBy: null,
          expiredAt: null,
          createdVia: 'admin token 0a1b2c3d',
          createdFrom: '192.0.2.7',
          expiredVia: null,
          expiredFrom: null,
        });
        const second = await a.createSilence(silence());
        const third = await a.createSilence(silence());
        expect((await b.listSilences({ limit: 10 })).map((s) => s.id)).to.deep.equal([third.id, second.id, first.id]);
        expect((await b.listSilences({ limit: 2 })).map((s) => s.id)).to.deep.equal([third.id, second.id]);
        expect((await b.listSilences({ before: second.id, limit: 2 })).map((s) => s.id)).to.deep.equal([first.id]);
        expect(await b.listSilences({ limit: 10 })).to.deep.include(made);
      });

      it('lists as current only silences not yet ended, those yet to start included', async () => {
        const now = Date.now();
        const active = await a.createSilence(silence());
        const later = await a.createSilence(silence({ startsAtMs: now + 3_600_000, endsAtMs: now + 7_200_000 }));
        await a.createSilence(silence({ startsAtMs: now - 7_200_000, endsAtMs: now - 1 }));
        const expired = await a.createSilence(silence());
        await a.expireSilence(expired.id, 'bob', now);
        expect((await b.listCurrentSilences(now)).map((s) => s.id)).to.deep.equal([active.id, later.id]);
        // Well after every end (each silence() reads the clock itself, a moment after `now`).
        expect((await b.listCurrentSilences(now + 3 * 3_600_000)).map((s) => s.id)).to.deep.equal([]);
      });

      it('expires once, recording who and when; a second expiry or an ended silence is SilenceEndedError', async () => {
        const made = await a.createSilence(silence());
        const at = Date.now();
        const expired = await b.expireSilence(made.id, 'bob', at);
        expect(expired).to.deep.include({ id: made.id, expiredBy: 'bob', expiredAt: new Date(at).toISOString() });
        expect(expired?.endsAt, 'the end asked for stays, for the audit').to.equal(made.endsAt);
        const again = await a.expireSilence(made.id, 'carol', at + 1).catch((err: unknown) => err);
        expect(again).to.be.instanceOf(SilenceEndedError);
        const [listed] = await a.listSilences({ limit: 1 });
        expect(listed).to.deep.include({ expiredBy: 'bob', expiredAt: new Date(at).toISOString() });
        const ended = await a.createSilence(silence({ startsAtMs: at - 2_000, endsAtMs: at - 1_000 }));
        expect(await a.expireSilence(ended.id, 'bob', at).catch((err: unknown) => err)).to.be.instanceOf(
          SilenceEndedError,
        );
        expect(await a.expireSilence('sil_none', 'bob', at)).to.equal(undefined);
      });

      it('records the credential and address of who made and who ended a silence, beside the names given', async () => {
        const cli = await a.createSilence(
          silence({ createdBy: 'alice', createdVia: 'cli as OS user alice', createdFrom: null }),
        );
        expect(cli).to.deep.include({ createdBy: 'alice', createdVia: 'cli as OS user alice', createdFrom: null });
        const at = Date.now();
        const audit = { via: 'dashboard session 1a2b3c4d (admin token 0a1b2c3d)', from: '2001:db8::1' };
        const expired = await b.expireSilence(cli.id, 'bob', at, audit);
        expect(expired).to.deep.include({ expiredBy: 'bob', expiredVia: audit.via, expiredFrom: audit.from });
        const [listed] = await a.listSilences({ limit: 1 });
        expect(listed).to.deep.include({
          createdVia: 'cli as OS user alice',
          expiredVia: audit.via,
          expiredFrom: audit.from,
        });
        const unaudited = await a.createSilence(silence());
        expect(await a.expireSilence(unaudited.id, 'carol', at)).to.deep.include({
          expiredVia: null,
          expiredFrom: null,
        });
      });

      it('records silenced routes on the event instead of deliveries, and prunes them with it', async () => {
        const made = await a.createSilence(silence());
        const event = payout({}, 100 * DAY);
        await a.saveEvent(event, [
          { ...delivery('ops-slack'), rules: ['problems'], silencedBy: made.id },
          { ...delivery('ops-email'), rules: ['problems', 'all'], silencedBy: made.id },
          delivery('ledger'),
        ]);
        const detail = await b.getEvent(event.id);
        expect(detail?.deliveries.map((d) => d.destination)).to.deep.equal(['ledger']);
        expect(detail?.silenced).to.deep.equal([
          { destination: 'ops-email', silenceId: made.id, rules: ['problems', 'all'] },
          { destination: 'ops-slack', silenceId: made.id, rules: ['problems'] },
        ]);
        expect(await b.claimDeliveries(claimOptions('w'))).to.have.length(1);
        const [claimed] = await b.claimDeliveries(claimOptions('w', { now: Date.now() + 60_000, leaseMs: 1 }));
        if (claimed) await b.finishAttempt(claimed, 'w', attempt('delivered'), { state: 'delivered' });
        const cut = { eventsBeforeMs: Date.now() - 90 * DAY, rejectionsBeforeMs: Date.now() - 30 * DAY };
        await b.pruneBatch(cut, 500);
        expect(await a.getEvent(event.id)).to.equal(undefined);
        // The same event id again (as after a restore) starts with no silenced routes left over.
        await a.saveEvent({ ...event, controlNumber: 'SKCREUSED', receivedAt: new Date().toISOString() }, []);
        expect((await a.getEvent(event.id))?.silenced).to.deep.equal([]);
      });
    });

    describe('shared state', () => {
      it('grants rejection rows up to the cap a minute across instances, and again from the next minute', async () => {
        const minute = 1_800_000_000_000;
        // 12 instances asking for 3 at once, 30 rows a minute between them: 30 granted, never more.
        const takes = await Promise.all(
          Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).takeRejectionRows(minute, 3, 30)),
        );
        expect(takes.reduce((n, x) => n + x, 0)).to.equal(30);
        expect(takes.every((x) => x >= 0 && x <= 3)).to.equal(true);
        expect(await b.takeRejectionRows(minute, 3, 30), 'the minute is used up').to.equal(0);
        // Part of what is asked, when that is all that is left.
        expect(await a.takeRejectionRows(minute + 60_000, 25, 30)).to.equal(25);
        expect(await b.takeRejectionRows(minute + 60_000, 10, 30)).to.equal(5);
        // A clock behind the others is charged to the latest minute, not given a fresh one.
        expect(await a.takeRejectionRows(minute, 1, 30)).to.equal(0);
        expect(await a.takeRejectionRows(minute + 120_000, 1, 30)).to.equal(1);
      });

      it('admits one rejection alert per window across instances, and one instance sends the closed window', async () => {
        const windowMs = 60_000;
        const now = Date.now();
        const [first, second] = await Promise.all([
          a.admitRejectionAlert(rejection(), ['ops-slack', 'ops-email'], now, windowMs),
          b.admitRejectionAlert(rejection(), ['ops-slack', 'ops-email'], now, windowMs),
        ]);
        const admitted = [...first, ...second];
        expect(admitted.map((x) => x.destination).sort()).to.deep.equal(['ops-email', 'ops-slack']);
        expect(admitted.every((x) => x.folded === 0)).to.equal(true);
        await a.admitRejectionAlert(rejection({ description: 'last one' }), ['ops-slack'], now + 1, windowMs);

        expect(await b.closeExpiredAlertWindows(now + 10, windowMs), 'not expired yet').to.deep.equal([]);
        const later = now + windowMs + 1;
        const [closedA, closedB] = await Promise.all([
          a.closeExpiredAlertWindows(later, windowMs),
          b.closeExpiredAlertWindows(later, windowMs),
        ]);
        const summaries = [...closedA, ...closedB].sort((x, y) => (x.destination < y.destination ? -1 : 1));
        expect(summaries.map((s) => [s.destination, s.folded])).to.deep.equal([
          ['ops-email', 1],
          ['ops-slack', 2],
        ]);
        expect(summaries[1]).to.deep.include({ reason: 'unauthenticated', lastDescription: 'last one', windowMs });

        // Reopened at `later`: the next rejection is folded, not sent; after another window an empty one is dropped.
        expect(await a.admitRejectionAlert(rejection(), ['ops-slack'], later + 1, windowMs)).to.deep.equal([]);
        const reopened = await b.admitRejectionAlert(rejection(), ['ops-email'], later + windowMs + 5, windowMs);
        expect(reopened).to.deep.equal([{ destination: 'ops-email', folded: 0 }]);
      });

      it('sums metric totals published by two instances and lists each live process', async () => {
        const sample = (value: number, outcome = 'accepted'): Sample => ({
          series: `skyrelay_callbacks_total{"outcome":"${outcome}"}`,
          family: 'skyrelay_callbacks_total',
          type: 'counter',
          help: 'Callbacks',
          sample: 'skyrelay_callbacks_total',
          labels: { outcome },
          value,
        });
        const families = [{ name: 'process_cpu', help: 'cpu', type: 'gauge', values: [{ value: 1, labels: {} }] }];
        const now = Date.now();
        await Promise.all([
          a.publishMetrics([sample(3), sample(1, 'refused')], { instance: 'a', pid: 1, now, families }),
          b.publishMetrics([sample(4)], { instance: 'b', pid: 2, now, families }),
        ]);
        await a.publishMetrics([sample(2)], { instance: 'a', pid: 1, now: now + 1, families });
        const totals = await b.readMetricTotals();
        const value = (outcome: string) => totals.find((t) => t.labels['outcome'] === outcome)?.value;
        expect(value('accepted')).to.equal(9);
        expect(value('refused')).to.equal(1);
        expect(totals.find((t) => t.labels['outcome'] === 'accepted')).to.deep.include({
          family: 'skyrelay_callbacks_total',
          type: 'counter',
        });

        expect((await a.readMetricProcesses(now)).map((p) => [p.instance, p.pid])).to.deep.equal([
          ['a', 1],
          ['b', 2],
        ]);
        expect((await a.readMetricProcesses(now + 1)).map((p) => p.instance)).to.deep.equal(['a']);
        await b.dropMetricProcess('a');
        expect((await a.readMetricProcesses(0)).map((p) => p.instance)).to.deep.equal(['b']);
        await a.dropStaleMetricProcesses(now + 1);
        expect(await b.readMetricProcesses(0)).to.deep.equal([]);
        expect((await a.readMetricProcesses(0)).length).to.equal(0);
      });

      it('runs a cluster job in one instance at a time', async () => {
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        // a takes the job (again if b's first try happened to hold the lock at that instant), then b is refused.
        let entered = false;
        const running = (async () => {
          for (;;) {
            const result = await a.runExclusive('retention', async () => {
              entered = true;
              await held;
              return 'a';
            });
            if (result !== undefined) return result;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        })();
        for (const deadline = Date.now() + 10_000; !entered && Date.now() < deadline;) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect(entered, 'a took the job').to.equal(true);
        expect(await b.runExclusive('retention', () => Promise.resolve('b')), 'b ran while a held the job').to.equal(
          undefined,
        );
        expect(await b.runExclusive('other-job', () => Promise.resolve('other'))).to.equal('other');
        release();
        expect(await running).to.equal('a');
        expect(await b.runExclusive('retention', () => Promise.resolve('b'))).to.equal('b');
      });
    });

    describe('health and lifecycle', () => {
      it('answers ping and a probe write, with no write failure and nothing lost', async () => {
        await a.ping();
        await a.probeWrite();
        expect(a.lastWriteFailure).to.equal(undefined);
        expect(a.lostReason).to.equal(undefined);
        expect(a.kind).to.equal(factory.name === 'SQLite' ? 'sqlite' : 'postgres');
      });

      it('returns the first close promise to a second close, and refuses use after it', async () => {
        const store = await harness.open();
        const first = store.close();
        expect(store.close()).to.equal(first);
        await first;
        const err = await store.listEvents({ limit: 1 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).to.be.instanceOf(Error);
      });
    });
  });
}
