/**
 * The Store contract for the ledger, run against every implementation: a window's callbacks (from the tally written
 * with each), events by origin, routes by destination and end, payouts first seen, and the daily summary's record
 * raised once per day however many instances race for it.
 */
import { expect } from 'chai';
import { buildGroupMessage } from '../../../src/alerts/grouping/message';
import { PAY_STATUSES, type PayoutEvent, type RelayEvent, type SystemEvent } from '../../../src/event';
import { buildStuckEvent } from '../../../src/payouts/events';
import { createPayoutPolicy } from '../../../src/payouts/policy';
import { OPEN_STATES } from '../../../src/payouts/stuck-after';
import type { ConfirmationSettlement } from '../../../src/payouts/types';
import type { ClaimOptions, NewDelivery } from '../../../src/delivery/types';
import type { Store } from '../../../src/store/store';
import { buildLedger, dayWindow } from '../../../src/ledger/balance';
import { LedgerOperations } from '../../../src/operations/ledger';
import type { NewRejection } from '../../../src/ingest/types';
import { buildPayoutEvent } from '../../support/fixtures';
import { STORE_FACTORIES, type StoreHarness } from './factories';

const PARTNER = 'Acme@skypay';
const OTHER = 'Other@skypay';
// 2026-12-01 in +08:00: from 2026-11-30T16:00Z to 2026-12-01T16:00Z.
const DAY = dayWindow('2026-12-01', 480)!;
const at = (offsetMs: number): string => new Date(DAY.startMs + offsetMs).toISOString();
const HOUR = 3_600_000;

let serial = 0;
const id = (prefix: string) => `${prefix}_l${String(++serial).padStart(8, '0')}`;

function callback(receivedAt: string, overrides: Partial<PayoutEvent> = {}): PayoutEvent {
  return buildPayoutEvent({
    id: id('evt'),
    partner: PARTNER,
    controlNumber: `SKL${String(serial).padStart(8, '0')}`,
    payType: 1,
    status: 'upload',
    dealTime: '2026-12-01 09:00:00',
    failDescription: null,
    receivedAt,
    ...overrides,
  });
}

/** Every payout to a webhook `hook`, grouped into `ops`, and held back from `quiet` by a silence. */
const plan = (event: RelayEvent): NewDelivery[] =>
  event.source === 'skypay'
    ? [
        { id: id('dlv'), destination: 'hook', rules: ['all'] },
        { id: id('dlv'), destination: 'ops', rules: ['all'], groupKey: 'g' },
        { id: id('dlv'), destination: 'quiet', rules: ['all'], silencedBy: 'sil_1' },
      ]
    : [];
const policy = createPayoutPolicy(plan);

const claim = (owner: string, now: number): ClaimOptions => ({
  owner,
  now,
  leaseMs: 30_000,
  maxInFlight: () => 100,
  max: 100,
});

function rejection(receivedAt: string, partner: string | undefined): NewRejection {
  return {
    id: id('rej'),
    receivedAt: new Date(receivedAt),
    remoteAddress: '127.0.0.1',
    method: 'POST',
    path: '/callbacks/skypay',
    contentType: 'application/json',
    body: undefined,
    status: 401,
    reason: 'unauthenticated',
    description: 'authentication key does not match',
    partner,
  };
}

for (const factory of STORE_FACTORIES) {
  factory.describe(`Store contract, ledger: ${factory.name}`, function () {
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

    const countDay = (store: Store, partner?: string) =>
      store.readLedgerCounts({ startMs: DAY.startMs, endMs: DAY.endMs, partner, now: DAY.endMs + HOUR });
    const ledgerOf = async (store: Store) =>
      buildLedger(await countDay(store), { day: DAY, timezone: '+08:00', partner: undefined, now: DAY.endMs + HOUR });

    it('counts callbacks, events and routes of the day only, each route in exactly one end', async () => {
      const first = callback(at(HOUR));
      const second = callback(at(2 * HOUR));
      const third = callback(at(23 * HOUR), { partner: OTHER });
      for (const event of [first, second, third]) await a.savePayoutEvent(event, policy);
      // Either side of the day: counted on their own days.
      await a.savePayoutEvent(callback(at(-1)), policy);
      await a.savePayoutEvent(callback(at(24 * HOUR)), policy);
      // A duplicate (same content) and a conflicting copy (same identity, other content) of `first`.
      await b.savePayoutEvent({ ...first, id: id('evt'), receivedAt: at(3 * HOUR) }, policy);
      await b.savePayoutEvent({ ...first, id: id('evt'), receivedAt: at(4 * HOUR), referenceNumber: 'X' }, policy);
      // A skyrelay event with no route, and two rejections (one counted, one with two more only counted).
      const alert: SystemEvent = {
        id: id('evt'),
        source: 'skyrelay',
        type: 'payout.stuck',
        receivedAt: at(5 * HOUR),
        data: {},
      };
      await a.saveEvent(alert, []);
      const kept = rejection(at(6 * HOUR), PARTNER);
      await a.saveRejection(kept);
      await a.saveRejection(rejection(at(7 * HOUR), undefined));
      await a.addSuppressed([{ rejectionId: kept.id, count: 2 }]);

      // hook: first delivered, second dead then replayed (pending again), third in flight.
      const now = DAY.startMs + 23.5 * HOUR;
      const claimed = await a.claimDeliveries(claim('w', now));
      const byEvent = new Map(claimed.map((d) => [d.eventId, d]));
      const done = { startedAt: now, durationMs: 5 };
      await a.finishAttempt(
        byEvent.get(first.id)!,
        'w',
        { ...done, outcome: 'delivered', status: 200 },
        { state: 'delivered' },
      );
      await a.finishAttempt(byEvent.get(second.id)!, 'w', { ...done, outcome: 'dead', status: 500 }, { state: 'dead' });
      const replay = await b.replayDeliveries([byEvent.get(second.id)!.id], now + 1);
      expect(replay.requeued).to.have.length(1);
      // ops: the group's message carries every member so far; it is delivered.
      const flushed = await a.flushGroup({
        destination: 'ops',
        groupKey: 'g',
        now,
        listLimit: 5,
        nameLimit: 5,
        isDue: () => true,
        build: (content) => buildGroupMessage('ops', 'g', content, new Date(now)),
      });
      expect(flushed).to.not.equal(undefined);

      const counts = await countDay(a);
      expect(counts.callbacks).to.deep.equal({
        accepted: 5,
        newEvents: 3,
        duplicates: 1,
        conflictingCopies: 1,
        rejected: { unauthenticated: 4 },
        suppressed: 2,
      });
      // The alert and the group's message.
      expect(counts.events).to.deep.equal({ callback: 3, reconciliation: 0, skyrelay: 2 });
      expect(counts.routes['hook']).to.deep.include({
        routed: 3,
        delivered: 1,
        dead: 0,
        pending: 1,
        inflight: 1,
        replayed: 1,
      });
      // The group message was made outside the day (its own event, received at `now`, within the day here): its
      // one delivery is pending, so its members are too.
      expect(counts.routes['ops']).to.deep.include({ routed: 3 + 1, pending: 3 + 1, deliveredInGroup: 0 });
      expect(counts.routes['quiet']).to.deep.include({ routed: 3, silenced: 3 });
      expect(counts.unexplained).to.deep.equal([]);
      const ledger = buildLedger(counts, { day: DAY, timezone: '+08:00', partner: undefined, now: DAY.endMs });
      expect(ledger.balanced).to.equal(true);

      // Its message delivered, every member is deliveredInGroup.
      const [message] = await a.claimDeliveries(claim('w', now + 10));
      expect(message?.destination).to.equal('ops');
      await a.finishAttempt(message!, 'w', { ...done, outcome: 'delivered', status: 200 }, { state: 'delivered' });
      const after = await countDay(b);
      expect(after.routes['ops']).to.deep.include({ routed: 4, delivered: 1, deliveredInGroup: 3, pending: 0 });

      // One partner's share.
      const acme = await countDay(a, PARTNER);
      expect(acme.callbacks).to.deep.include({ accepted: 4, newEvents: 2, rejected: { unauthenticated: 3 } });
      expect(acme.events).to.deep.equal({ callback: 2, reconciliation: 0, skyrelay: 0 });
      expect(acme.routes['hook']).to.deep.include({ routed: 2 });
    });

    it('counts payouts first seen in the day: opened, finalised, still open by age, stuck', async () => {
      const paid = callback(at(2 * HOUR));
      await a.savePayoutEvent(callback(at(HOUR)), policy);
      await a.savePayoutEvent(callback(at(23.5 * HOUR)), policy);
      await a.savePayoutEvent(paid, policy);
      await a.savePayoutEvent(
        callback(at(3 * HOUR), {
          controlNumber: paid.controlNumber,
          payType: 2,
          status: 'paid',
          dealTime: '2026-12-01 10:00:00',
        }),
        policy,
      );
      const counts = await countDay(a);
      expect(counts.payouts).to.deep.include({
        opened: 3,
        finalised: { paid: 1, cancelled: 0, failed: 0 },
        // Measured from an hour after the day's end.
        stillOpen: { under1h: 0, under24h: 1, older: 1 },
      });
      expect(counts.events.callback).to.equal(4);
    });

    it('names an event left with fewer routes than its rules chose when it was stored: not balanced', async () => {
      const whole = callback(at(HOUR));
      const short = callback(at(2 * HOUR));
      for (const event of [whole, short]) await a.savePayoutEvent(event, policy);
      expect((await ledgerOf(b)).balanced).to.equal(true);
      // Its delivery to hook deleted straight in the table; its group membership and silenced route remain.
      const hook = (await a.getEvent(short.id))?.deliveries.find((d) => d.destination === 'hook');
      expect(hook, 'the delivery to hook').to.not.equal(undefined);
      await harness.tamper('DELETE FROM deliveries WHERE id = ?', [hook!.id]);

      const ledger = await ledgerOf(b);
      expect(ledger.unexplained).to.deep.equal([
        { kind: 'event', id: short.id, why: 'its rules chose 3 route(s) when it was stored, but 2 remain' },
      ]);
      expect(ledger.balanced).to.equal(false);
      // What remains still balances per destination: the event is named, not a sum.
      expect(ledger.routes['hook']).to.deep.include({ routed: 1, pending: 1 });
      expect(ledger.events.callback).to.equal(2);
    });

    it('names a callback acknowledged as new whose event is gone: not balanced', async () => {
      const kept = callback(at(HOUR));
      const lost = callback(at(2 * HOUR));
      for (const event of [kept, lost]) await a.savePayoutEvent(event, policy);
      // The event row deleted straight in the table: its deliveries and membership go with it (ON DELETE CASCADE),
      // the callback's identity and the tally that acknowledged it stay.
      await harness.tamper('DELETE FROM events WHERE id = ?', [lost.id]);
      expect(await a.getEvent(lost.id)).to.equal(undefined);

      const ledger = await ledgerOf(b);
      expect(ledger.unexplained).to.deep.equal([
        {
          kind: 'callback',
          id: lost.id,
          why: `callback for ${lost.controlNumber} was acknowledged as new, but its event is missing`,
        },
      ]);
      expect(ledger.balanced).to.equal(false);
      expect(ledger.callbacks).to.deep.include({ accepted: 2, duplicates: 0, conflictingCopies: 0 });
      expect(ledger.events.callback).to.equal(1);
      // Only the kept event's routes are left, each at its end.
      expect(ledger.routes['hook']).to.deep.include({ routed: 1, pending: 1 });
      expect(ledger.routes['quiet']).to.deep.include({ routed: 1, silenced: 1 });
    });

    it('counts payouts stuck, anomalies by kind, confirmed and contradicted, of the partner asked for', async () => {
      // Anomalies are raised (and counted) when the policy judges: inside the day here.
      const judged = createPayoutPolicy(plan, () => new Date(DAY.startMs + 4 * HOUR), {
        statusQueryPartner: PARTNER,
      });
      const status = (receivedAt: string, cn: string, payType: 1 | 2 | 4, dealTime: string) =>
        callback(receivedAt, {
          controlNumber: cn,
          payType,
          status: PAY_STATUSES[payType],
          dealTime,
          failDescription: payType === 4 ? 'account closed' : null,
        });
      // same: paid with its upload's exact dealTime (same-time), confirmed, then two uploads after it (after-final).
      const same = callback(at(HOUR));
      await a.savePayoutEvent(same, judged);
      await a.savePayoutEvent(status(at(2 * HOUR), same.controlNumber, 2, same.dealTime), judged);
      // torn: paid, then failed (conflict). wrong: paid, and SkyPay's status query says otherwise (unconfirmed).
      const torn = status(at(HOUR), 'SKLTORN00001', 2, '2026-12-01 09:30:00');
      const wrong = status(at(HOUR), 'SKLWRONG0001', 2, '2026-12-01 09:30:00');
      for (const event of [torn, wrong]) await a.savePayoutEvent(event, judged);
      await b.savePayoutEvent(status(at(2 * HOUR), torn.controlNumber, 4, '2026-12-01 10:30:00'), judged);
      // idle: an upload that stays open, reported stuck. other: another partner's upload, stuck too.
      const idle = callback(at(2 * HOUR));
      const other = callback(at(2 * HOUR), { partner: OTHER });
      for (const event of [idle, other]) await a.savePayoutEvent(event, judged);

      const settle = (cn: string, confirmation: ConfirmationSettlement['confirmation']): ConfirmationSettlement => {
        const event: SystemEvent = {
          id: id('evt'),
          source: 'skyrelay',
          type: confirmation === 'confirmed' ? 'payout.confirmed' : 'payout.anomaly',
          receivedAt: at(5 * HOUR),
          data: {
            partner: PARTNER,
            controlNumber: cn,
            state: 'paid',
            confirmation,
            ...(confirmation === 'contradicted' ? { kind: 'unconfirmed' } : {}),
          },
        };
        return { partner: PARTNER, controlNumber: cn, state: 'paid', confirmation, event, deliveries: [] };
      };
      expect(await b.settleConfirmation(settle(same.controlNumber, 'confirmed'))).to.equal(true);
      expect(await b.settleConfirmation(settle(wrong.controlNumber, 'contradicted'))).to.equal(true);
      for (const dealTime of ['2026-12-01 11:00:00', '2026-12-01 12:00:00'])
        await a.savePayoutEvent(status(at(6 * HOUR), same.controlNumber, 1, dealTime), judged);
      const stuck = await b.raiseStuckPayouts({
        cutoffs: OPEN_STATES.map((state) => ({ state, stateSinceBeforeMs: DAY.startMs + 3 * HOUR })),
        limit: 10,
        build: (p) => buildStuckEvent(p, new Date(DAY.startMs + 7 * HOUR)),
        plan,
      });
      expect(stuck.map((e) => e.data['controlNumber']).sort()).to.deep.equal(
        [idle.controlNumber, other.controlNumber].sort(),
      );

      const all = await countDay(b);
      expect(all.payouts).to.deep.include({
        opened: 5,
        finalised: { paid: 3, cancelled: 0, failed: 0 },
        stuck: 2,
        anomalies: { 'same-time': 1, conflict: 1, unconfirmed: 1, 'after-final': 2 },
        confirmed: 1,
        contradicted: 1,
      });
      const acme = await countDay(a, PARTNER);
      expect(acme.payouts).to.deep.include({ opened: 4, stuck: 1, confirmed: 1, contradicted: 1 });
      expect(acme.payouts.anomalies).to.deep.equal(all.payouts.anomalies);
      const others = await countDay(a, OTHER);
      expect(others.payouts).to.deep.include({ opened: 1, stuck: 1, anomalies: {}, confirmed: 0, contradicted: 0 });
    });

    it('tells days apart in +08:00 across UTC midnight: the local midnight is the boundary, not the UTC one', async () => {
      const ledgers = new LedgerOperations({ store: a, timezone: '+08:00', retentionDays: 3650 });
      const times = [
        DAY.startMs - 1, // 2026-11-30T15:59:59.999Z: 23:59:59.999 on 30 November in +08:00
        DAY.startMs, // 2026-11-30T16:00:00Z: midnight of 1 December in +08:00
        Date.parse('2026-11-30T23:59:59.999Z'), // still 30 November in UTC, 07:59 on 1 December here
        Date.parse('2026-12-01T00:00:00.000Z'), // UTC midnight: the same local day
        DAY.endMs - 1,
        DAY.endMs, // midnight of 2 December in +08:00
      ];
      for (const ms of times) await b.savePayoutEvent(callback(new Date(ms).toISOString()), policy);
      const [before, day, after] = await Promise.all([
        ledgers.compute({ day: '2026-11-30' }),
        ledgers.compute({ day: '2026-12-01' }),
        ledgers.compute({ day: '2026-12-02' }),
      ]);
      expect([before, day, after].map((l) => l.callbacks.accepted)).to.deep.equal([1, 4, 1]);
      expect([before, day, after].map((l) => l.events.callback)).to.deep.equal([1, 4, 1]);
      expect([before, day, after].map((l) => l.payouts.opened)).to.deep.equal([1, 4, 1]);
      expect(day).to.deep.include({ from: '2026-11-30T16:00:00.000Z', to: '2026-12-01T16:00:00.000Z', balanced: true });
    });

    it('records a day once, with its event, however many instances raise it', async () => {
      const record = {
        day: '2026-12-01',
        timezone: '+08:00',
        computedMs: Date.now(),
        balanced: true,
        unexplained: 0,
        eventId: null,
      };
      const summary = (): SystemEvent => ({
        id: id('evt'),
        source: 'skyrelay',
        type: 'ledger.daily',
        receivedAt: new Date().toISOString(),
        data: { day: '2026-12-01' },
      });
      const raised = await Promise.all([
        a.raiseLedgerDay(record, summary(), [{ id: id('dlv'), destination: 'ops', rules: ['daily'] }]),
        b.raiseLedgerDay(record, summary(), [{ id: id('dlv'), destination: 'ops', rules: ['daily'] }]),
      ]);
      expect(raised.filter(Boolean)).to.have.length(1);
      const stored = await a.listEvents({ type: 'ledger.daily', limit: 10 });
      expect(stored).to.have.length(1);
      expect(stored[0]?.deliveries.pending).to.equal(1);
      expect(await b.readLedgerDay('2026-12-01')).to.deep.include({
        day: '2026-12-01',
        balanced: true,
        eventId: stored[0]?.id,
      });
      await a.raiseLedgerDay({ ...record, day: '2026-12-02', balanced: false, unexplained: 2 }, summary(), []);
      expect(await b.readLatestLedgerDay()).to.deep.include({ day: '2026-12-02', balanced: false, unexplained: 2 });
    });
  });
}
