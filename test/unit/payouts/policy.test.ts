import { expect } from 'chai';
import type { PayoutEvent, RelayEvent } from '../../../src/event';
import { describeAge } from '../../../src/payouts/events';
import { createPayoutPolicy } from '../../../src/payouts/policy';
import type { PayoutRecord } from '../../../src/payouts/types';
import { buildPaidEvent, buildPayoutEvent } from '../../support/fixtures';

const NOW = new Date('2026-11-27T08:00:00.000Z');
const planned: RelayEvent[] = [];
const policy = createPayoutPolicy(
  (event) => {
    planned.push(event);
    return [];
  },
  () => NOW,
);

const upload = (overrides: Partial<PayoutEvent> = {}): PayoutEvent =>
  buildPayoutEvent({ payType: 1, status: 'upload', dealTime: '2026-11-27 10:00:00', ...overrides });

function record(overrides: Partial<PayoutRecord> = {}): PayoutRecord {
  return {
    id: 'pay_1',
    partner: 'ACME Remit <PH>',
    controlNumber: 'SK99123456789',
    state: 'uploaded',
    firstSeenMs: 1_000,
    lastSeenMs: 2_000,
    lastDealTime: '2026-11-27 10:00:00',
    stateSinceMs: 1_000,
    stuckState: null,
    anomalies: 0,
    confirmation: 'off',
    ...overrides,
  };
}

describe('payout policy', () => {
  it('starts a payout at its first callback', () => {
    const event = upload({ receivedAt: '2026-11-27T02:00:01.000Z' });
    const { transition, after } = policy.judge(undefined, event, []);
    expect(transition.kind).to.equal('first');
    expect(after).to.include({ state: 'uploaded', stuckState: null, anomalies: 0, lastDealTime: event.dealTime });
    expect(after.firstSeenMs).to.equal(Date.parse(event.receivedAt));
    expect(after.stateSinceMs).to.equal(Date.parse(event.receivedAt));
    expect(after.id).to.match(/^pay_/);
  });

  it('moves the state and its since on forward, keeps first seen and the newest dealTime', () => {
    const paid = buildPaidEvent({ dealTime: '2026-11-27 11:00:00', receivedAt: '2026-11-27T03:00:00.000Z' });
    const { after } = policy.judge(record(), paid, []);
    expect(after).to.include({ state: 'paid', firstSeenMs: 1_000, lastDealTime: '2026-11-27 11:00:00' });
    expect(after.stateSinceMs).to.equal(Date.parse(paid.receivedAt));
  });

  it('a late status keeps the state, its since and the newest dealTime', () => {
    const late = upload({ dealTime: '2026-11-27 09:00:00', receivedAt: '2026-11-27T03:00:00.000Z' });
    const { transition, after } = policy.judge(record({ state: 'paid', stateSinceMs: 1_500 }), late, []);
    expect(transition.kind).to.equal('late');
    expect(after).to.include({ state: 'paid', stateSinceMs: 1_500, lastDealTime: '2026-11-27 10:00:00' });
  });

  it('counts an anomaly and raises payout.anomaly with the history and a plain warning', () => {
    const before = record({ state: 'paid' });
    const failure = buildPayoutEvent({ dealTime: '2026-11-27 12:00:00' });
    const { transition, after } = policy.judge(before, failure, []);
    expect(transition).to.deep.equal({ from: 'paid', to: 'paid', kind: 'conflict' });
    expect(after.anomalies).to.equal(1);
    expect(policy.needsHistory(before, failure)).to.equal(true);
    const history = [
      {
        eventId: 'evt_a',
        status: 'paid' as const,
        dealTime: '2026-11-27 11:00:00',
        receivedAt: 'x',
        kind: 'first' as const,
      },
    ];
    const [raised, ...more] = policy.raise({ event: failure, transition, before, after, history });
    expect(more).to.have.length(0);
    expect(raised).to.include({ source: 'skyrelay', type: 'payout.anomaly', receivedAt: NOW.toISOString() });
    expect(raised?.data).to.include({ kind: 'conflict', controlNumber: 'SK99123456789', state: 'paid' });
    expect(raised?.data['history']).to.deep.equal(history);
    expect(String(raised?.data['reason'])).to.match(/either a SkyPay error or a forged callback/);
  });

  it('raises nothing for ordinary transitions, and reads no history for them', () => {
    const paid = buildPaidEvent({ dealTime: '2026-11-27 11:00:00' });
    const { transition, after } = policy.judge(record(), paid, []);
    expect(policy.needsHistory(record(), paid)).to.equal(false);
    expect(policy.raise({ event: paid, transition, before: record(), after, history: [] })).to.deep.equal([]);
  });

  it('raises payout.unstuck when a payout reported stuck gets its final status', () => {
    const before = record({ stuckState: 'uploaded' });
    const paid = buildPaidEvent({ dealTime: '2026-11-27 11:00:00' });
    const { transition, after } = policy.judge(before, paid, []);
    expect(after.stuckState).to.equal('uploaded');
    const raised = policy.raise({ event: paid, transition, before, after, history: [] });
    expect(raised.map((e) => e.type)).to.deep.equal(['payout.unstuck']);
    expect(raised[0]?.data).to.include({ state: 'paid', stuckState: 'uploaded', controlNumber: 'SK99123456789' });
  });

  it('plans with the rules it was given', () => {
    planned.length = 0;
    const e = upload();
    policy.plan(e);
    expect(planned).to.deep.equal([e]);
  });

  it('describes ages for people', () => {
    expect(
      [17_000, 42 * 60_000, 6 * 3_600_000 + 5 * 60_000, 2 * 86_400_000 + 3_600_000].map(describeAge),
    ).to.deep.equal(['17s', '42m', '6h 5m', '2d 1h']);
  });
});

describe('payout policy: same-time and confirmation', () => {
  const confirming = createPayoutPolicy(
    () => [],
    () => NOW,
    { statusQueryPartner: 'ACME Remit <PH>' },
  );
  const upload = buildPayoutEvent({ payType: 1, status: 'upload', dealTime: '2026-11-27 10:00:00', id: 'evt_up' });
  const history = [
    {
      eventId: 'evt_up',
      status: 'upload' as const,
      dealTime: '2026-11-27 10:00:00',
      receivedAt: 'x',
      kind: 'first' as const,
    },
  ];

  it('reads the history for a status at or before the newest dealTime, and raises same-time with the status it shares', () => {
    const spliced = buildPaidEvent({ id: 'evt_sp', dealTime: '2026-11-27 10:00:00' });
    expect(confirming.needsHistory(record(), spliced)).to.equal(true);
    expect(confirming.needsHistory(record(), buildPaidEvent({ dealTime: '2026-11-27 10:00:01' }))).to.equal(false);
    const { transition, after } = confirming.judge(record(), spliced, history);
    expect(transition.kind).to.equal('forward');
    expect(after).to.include({ state: 'paid', anomalies: 1, confirmation: 'pending' });
    const entry = {
      eventId: 'evt_sp',
      status: 'paid' as const,
      dealTime: spliced.dealTime,
      receivedAt: 'y',
      kind: transition.kind,
    };
    const raised = confirming.raise({
      event: spliced,
      transition,
      before: record(),
      after,
      history: [...history, entry],
    });
    expect(raised.map((e) => [e.type, e.data['kind']])).to.deep.equal([['payout.anomaly', 'same-time']]);
    expect(raised[0]?.data).to.include({
      previousStatus: 'upload',
      previousEventId: 'evt_up',
      eventId: 'evt_sp',
      confirmation: 'pending',
      transition: 'forward',
    });
    // The reason names no payout: partner and control number are data a destination masks.
    expect(String(raised[0]?.data['reason'])).not.to.match(/SK99123456789|ACME/);
    expect(String(raised[0]?.data['reason'])).to.match(/payout\.confirmed/);
  });

  it("confirms only the status query partner's final statuses; says so in a same-time reason without one", () => {
    const paid = buildPaidEvent({ dealTime: '2026-11-27 11:00:00' });
    expect(confirming.judge(record(), paid, []).after.confirmation).to.equal('pending');
    expect(confirming.judge(record(), { ...paid, partner: 'Other' }, []).after.confirmation).to.equal('off');
    expect(policy.judge(record(), paid, []).after.confirmation).to.equal('off');
    expect(confirming.judge(record(), upload, []).after.confirmation).to.equal('off');
    const spliced = buildPaidEvent({ dealTime: '2026-11-27 10:00:00' });
    const judged = policy.judge(record(), spliced, []);
    const [raised] = policy.raise({
      event: spliced,
      transition: judged.transition,
      before: record(),
      after: judged.after,
      history: [],
    });
    expect(raised?.data).to.include({ kind: 'same-time', previousStatus: null, confirmation: 'off' });
    expect(String(raised?.data['reason'])).to.match(/skypay\.statusQuery/);
  });

  it('a status SkyPay reported is no splice, and is confirmed', () => {
    const missed = buildPaidEvent({ dealTime: '2026-11-27 10:00:00', origin: 'reconciliation' });
    const { transition, after } = confirming.judge(record(), missed, history);
    expect(after).to.include({ anomalies: 0, confirmation: 'confirmed' });
    expect(confirming.raise({ event: missed, transition, before: record(), after, history })).to.deep.equal([]);
  });

  it('a stuck payout closed by a same-time status raises both', () => {
    const before = record({ stuckState: 'uploaded' });
    const spliced = buildPaidEvent({ dealTime: '2026-11-27 10:00:00' });
    const { transition, after } = confirming.judge(before, spliced, history);
    const raised = confirming.raise({ event: spliced, transition, before, after, history });
    expect(raised.map((e) => e.type)).to.deep.equal(['payout.anomaly', 'payout.unstuck']);
  });
});
