/**
 * The Store contract for grouping and Slack's rate limit (issue 11), run against every implementation: members
 * instead of deliveries, a flush that turns a group into one message exactly once however many instances race
 * for it, the members following their message's delivery, rate slots and 429 pauses shared by instances.
 */
import { expect } from 'chai';
import { buildGroupMessage } from '../../../src/alerts/grouping/message';
import { isGroupDue } from '../../../src/alerts/grouping/window';
import { isGroupEvent, type PayoutEvent } from '../../../src/event';
import type { Store } from '../../../src/store/store';
import type { ClaimOptions } from '../../../src/delivery/types';
import type { GroupFlush } from '../../../src/alerts/types';
import { buildPayoutEvent } from '../../support/fixtures';
import { STORE_FACTORIES, type StoreHarness } from './factories';

const KEY = JSON.stringify({ payType: 'failure', partner: 'Acme@skypay' });
const timing = { waitMs: 2_000, intervalMs: 5_000 };

let serial = 0;
function payout(overrides: Partial<PayoutEvent> = {}): PayoutEvent {
  serial += 1;
  return buildPayoutEvent({
    id: `evt_g${String(serial).padStart(8, '0')}`,
    controlNumber: `SKG${String(serial).padStart(8, '0')}`,
    partner: 'Acme@skypay',
    receivedAt: new Date(Date.now() - 10_000).toISOString(),
    ...overrides,
  });
}

const member = (destination = 'ops-slack', groupKey = KEY) => ({
  id: `dlv_m${++serial}`,
  destination,
  rules: ['problems'],
  groupKey,
});

function flushAt(now: number, destination = 'ops-slack', groupKey = KEY): GroupFlush {
  return {
    destination,
    groupKey,
    now,
    listLimit: 2,
    nameLimit: 100,
    isDue: (state) => isGroupDue(state, timing, now),
    build: (content) => buildGroupMessage(destination, groupKey, content, new Date(now)),
  };
}

function claimOptions(owner: string, overrides: Partial<ClaimOptions> = {}): ClaimOptions {
  return { owner, now: Date.now(), leaseMs: 30_000, maxInFlight: () => 100, max: 100, ...overrides };
}

for (const factory of STORE_FACTORIES) {
  factory.describe(`Store contract, grouping and rate limits: ${factory.name}`, function () {
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

    it('keeps a grouped event as a waiting member, not as a delivery', async () => {
      const event = payout();
      await a.saveEvent(event, [member(), { id: 'dlv_hook', destination: 'ledger', rules: ['feed'] }]);
      const claimed = await b.claimDeliveries(claimOptions('w'));
      expect(claimed.map((d) => d.destination)).to.deep.equal(['ledger']);
      const pending = await b.listPendingGroups();
      expect(pending).to.have.length(1);
      expect(pending[0]).to.deep.include({
        destination: 'ops-slack',
        groupKey: KEY,
        members: 1,
        lastFlushMs: undefined,
      });
      expect(pending[0]?.firstMs).to.equal(Date.parse(event.receivedAt));
      const detail = await b.getEvent(event.id);
      expect(detail?.groups).to.deep.equal([
        {
          destination: 'ops-slack',
          groupKey: KEY,
          rules: ['problems'],
          joinedAt: event.receivedAt,
          messageEventId: null,
          deliveryId: null,
          state: 'waiting',
        },
      ]);
    });

    it('flushes a due group into one message with one delivery, and its members follow that delivery', async () => {
      const events = [payout(), payout({ payType: 6, status: 'amendedFailure' }), payout()];
      for (const e of events) await a.saveEvent(e, [member()]);
      const now = Date.now();
      const flushed = await b.flushGroup(flushAt(now));
      expect(flushed?.members).to.equal(3);
      expect(await a.listPendingGroups()).to.deep.equal([]);

      const [claimed] = await a.claimDeliveries(claimOptions('w'));
      expect(claimed?.id).to.equal(flushed?.deliveryId);
      expect(claimed?.eventId).to.equal(flushed?.messageEventId);
      const message = claimed?.event;
      expect(message !== undefined && isGroupEvent(message)).to.equal(true);
      if (!message || !isGroupEvent(message)) return;
      expect(message.group.total).to.equal(3);
      expect(message.group.counts).to.deep.equal({ failure: 2, amendedFailure: 1 });
      const named = [...message.group.listed.map((l) => l.controlNumber), ...message.group.moreNames];
      expect(named, 'the first 2 listed, the third named').to.deep.equal(events.map((e) => e.controlNumber));
      expect(claimed?.rules).to.deep.equal(['problems']);

      const inflight = await b.getEvent(events[0]?.id ?? '');
      expect(inflight?.groups[0]).to.deep.include({
        messageEventId: flushed?.messageEventId,
        deliveryId: flushed?.deliveryId,
        state: 'inflight',
      });
      if (!claimed) return;
      await a.finishAttempt(claimed, 'w', { startedAt: now, durationMs: 5, outcome: 'dead' }, { state: 'dead' });
      for (const e of events) {
        expect((await b.getEvent(e.id))?.groups[0]?.state, 'every member dies with its message').to.equal('dead');
      }
    });

    it('creates nothing when the group is not due, and judges the interval after a message', async () => {
      await a.saveEvent(payout({ receivedAt: new Date().toISOString() }), [member()]);
      expect(await a.flushGroup(flushAt(Date.now())), 'waitMs not over').to.equal(undefined);
      const later = Date.now() + timing.waitMs;
      expect(await a.flushGroup(flushAt(later))).to.not.equal(undefined);
      await a.saveEvent(payout({ receivedAt: new Date(later + 100).toISOString() }), [member()]);
      const [pending] = await b.listPendingGroups();
      expect(pending?.lastFlushMs).to.equal(later);
      expect(await b.flushGroup(flushAt(later + timing.intervalMs - 1)), 'interval not over').to.equal(undefined);
      expect((await b.flushGroup(flushAt(later + timing.intervalMs)))?.members).to.equal(1);
    });

    it('makes one message of a group two instances flush at once, carrying every member exactly once', async () => {
      const events = Array.from({ length: 30 }, () => payout());
      await Promise.all(events.map((e, i) => (i % 2 ? a : b).saveEvent(e, [member()])));
      const now = Date.now();
      const results = await Promise.all([a.flushGroup(flushAt(now)), b.flushGroup(flushAt(now))]);
      const made = results.filter((r) => r !== undefined);
      expect(made, 'one message').to.have.length(1);
      expect(made[0]?.members).to.equal(30);
      const carriers = new Set<string | null>();
      for (const e of events) carriers.add((await a.getEvent(e.id))?.groups[0]?.messageEventId ?? null);
      expect([...carriers]).to.deep.equal([made[0]?.messageEventId]);
      const deliveries = await a.listDeliveries({ destination: 'ops-slack', limit: 10 });
      expect(deliveries).to.have.length(1);
    });

    it('keeps groups apart by destination and key', async () => {
      const other = JSON.stringify({ payType: 'failure', partner: 'Other@skypay' });
      await a.saveEvent(payout(), [member('ops-slack'), member('ops-email')]);
      await a.saveEvent(payout({ partner: 'Other@skypay' }), [member('ops-slack', other)]);
      const pending = await b.listPendingGroups();
      expect(pending.map((g) => `${g.destination} ${g.groupKey}`).sort()).to.deep.equal(
        [`ops-email ${KEY}`, `ops-slack ${KEY}`, `ops-slack ${other}`].sort(),
      );
      expect((await b.flushGroup(flushAt(Date.now(), 'ops-slack', other)))?.members).to.equal(1);
      expect(await b.listPendingGroups()).to.have.length(2);
    });

    it('does not send a member alone on replay: its group message carries it', async () => {
      const event = payout();
      await a.saveEvent(event, [member()]);
      const result = await b.replayEvent(event.id, () => [member()]);
      expect(result?.created).to.deep.equal([]);
      expect(result?.skipped[0]?.reason).to.match(/waiting in its group for ops-slack/);
      expect(await b.claimDeliveries(claimOptions('w'))).to.deep.equal([]);
    });

    describe('rate slots and pauses', () => {
      async function seed(store: Store, n: number, destination: string) {
        for (let i = 0; i < n; i++)
          await store.saveEvent(payout(), [{ id: `dlv_r${++serial}`, destination, rules: [] }]);
      }

      it('gives a rate-limited destination one send per interval across instances', async () => {
        await seed(a, 4, 'ops-slack');
        await seed(a, 2, 'ledger');
        const now = Date.now();
        const rate = { now, minIntervalMs: (d: string) => (d === 'ops-slack' ? 1000 : undefined) };
        const [fromA, fromB] = await Promise.all([
          a.claimDeliveries(claimOptions('wa', rate)),
          b.claimDeliveries(claimOptions('wb', rate)),
        ]);
        const all = [...fromA, ...fromB];
        expect(
          all.filter((d) => d.destination === 'ops-slack'),
          'one slot taken',
        ).to.have.length(1);
        expect(all.filter((d) => d.destination === 'ledger')).to.have.length(2);
        expect(await b.claimDeliveries(claimOptions('wb', { ...rate, now: now + 999 }))).to.deep.equal([]);
        const next = await b.claimDeliveries(claimOptions('wb', { ...rate, now: now + 1000 }));
        expect(next.map((d) => d.destination)).to.deep.equal(['ops-slack']);
      });

      it('pauses every delivery of a destination until a 429 says, never shortening a pause', async () => {
        await seed(a, 3, 'ops-slack');
        const now = Date.now();
        await a.pauseDestination('ops-slack', now + 60_000);
        await b.pauseDestination('ops-slack', now + 1_000);
        expect(await b.claimDeliveries(claimOptions('w', { now }))).to.deep.equal([]);
        expect(await b.claimDeliveries(claimOptions('w', { now: now + 30_000 }))).to.deep.equal([]);
        const wake = await b.nextWakeAt();
        expect(wake, 'the worker sleeps until the pause ends').to.equal(now + 60_000);
        expect(await b.claimDeliveries(claimOptions('w', { now: now + 60_000 }))).to.have.length(3);
      });
    });
  });
}
