import { expect } from 'chai';
import {
  admitInTurn,
  chooseClaimed,
  isOrderedRoute,
  mayLease,
  numberInBatch,
  payoutKeyOf,
  probeRoom,
  type LineCandidate,
} from '../../../src/delivery/decisions';
import { buildFinanceEvent, buildPayoutEvent, buildRejectionEvent } from '../../support/fixtures';

describe('delivery/decisions: the lines of ordered delivery and a held destination’s room', () => {
  it('keys a payout status by partner and control number; other events stand in no line', () => {
    const a = buildPayoutEvent({ partner: 'acme', controlNumber: 'CN-1' });
    expect(payoutKeyOf(a)).to.equal(JSON.stringify(['acme', 'CN-1']));
    expect(payoutKeyOf(buildPayoutEvent({ partner: 'acme', controlNumber: 'CN-2' }))).not.to.equal(payoutKeyOf(a));
    expect(payoutKeyOf(buildPayoutEvent({ partner: 'other', controlNumber: 'CN-1' }))).not.to.equal(payoutKeyOf(a));
    expect(payoutKeyOf(buildFinanceEvent())).to.equal(undefined);
    expect(payoutKeyOf(buildRejectionEvent())).to.equal(undefined);
  });

  it('puts in a line only an ordered route that is sent by itself (not silenced, not grouped)', () => {
    const route = { id: 'd1', destination: 'hook', rules: ['r'] };
    expect(isOrderedRoute({ ...route, ordered: true })).to.equal(true);
    expect(isOrderedRoute(route)).to.equal(false);
    expect(isOrderedRoute({ ...route, ordered: true, silencedBy: 'sil_1' })).to.equal(false);
    expect(isOrderedRoute({ ...route, ordered: true, groupKey: 'g' })).to.equal(false);
  });

  it('numbers a batch on from each payout’s count before it, in the order given, skipping unordered events', () => {
    const places = numberInBatch(
      [
        { id: 'e1', key: 'p', ordered: true },
        { id: 'e2', key: 'q', ordered: true },
        { id: 'e3', key: 'p', ordered: false },
        { id: 'e4', key: undefined, ordered: true },
        { id: 'e5', key: 'p', ordered: true },
      ],
      new Map([['p', 4]]),
    );
    expect(Object.fromEntries(places)).to.deep.equal({
      e1: { key: 'p', seq: 5 },
      e2: { key: 'q', seq: 1 },
      e5: { key: 'p', seq: 6 },
    });
  });

  it('admits the first of each line and none of a busy line; deliveries in no line always go', () => {
    const c = (id: string, destination: string, key: string | undefined): LineCandidate => ({ id, destination, key });
    const candidates = [
      c('a', 'hook', 'p'),
      c('b', 'hook', 'p'),
      c('c', 'slack', 'p'),
      c('d', 'hook', undefined),
      c('e', 'hook', undefined),
      c('f', 'hook', 'q'),
    ];
    expect(admitInTurn(candidates, new Set()).map((x) => x.id)).to.deep.equal(['a', 'c', 'd', 'e', 'f']);
    expect(admitInTurn(candidates, new Set(['hook\np'])).map((x) => x.id)).to.deep.equal(['c', 'd', 'e', 'f']);
  });

  it('lets a closed destination be read freely, a paused one not at all, an open one one probe when its slot came', () => {
    const now = 1_000_000;
    expect(probeRoom(undefined, now, 3)).to.equal(undefined);
    expect(probeRoom({ state: 'paused', probeMs: 0, probeIntervalMs: 1000 }, now, 0)).to.equal(0);
    expect(probeRoom({ state: 'open', probeMs: now + 1, probeIntervalMs: 1000 }, now, 0)).to.equal(0);
    expect(probeRoom({ state: 'open', probeMs: now, probeIntervalMs: 1000 }, now, 1)).to.equal(0);
    expect(probeRoom({ state: 'open', probeMs: now, probeIntervalMs: 1000 }, now, 0)).to.equal(1);
  });

  it('leases at ingest within maxInFlight, past it up to the hand-off only while no other owner holds the destination', () => {
    const lease = { maxInFlight: (): number => 4 };
    const handOff = (): number => 1024;
    const free = (inFlight: number, othersHold = false) => ({ inFlight, othersHold });
    expect(mayLease(lease, undefined, 'hook', free(3))).to.equal(true);
    expect(mayLease(lease, undefined, 'hook', free(4))).to.equal(false);
    expect(mayLease(lease, handOff, 'hook', free(4))).to.equal(true);
    expect(mayLease(lease, handOff, 'hook', free(1023))).to.equal(true);
    expect(mayLease(lease, handOff, 'hook', free(1024))).to.equal(false);
    // Another process sending there: its claims and ours share maxInFlight, so nobody holds more in memory.
    expect(mayLease(lease, handOff, 'hook', free(4, true))).to.equal(false);
    expect(mayLease(lease, handOff, 'hook', free(3, true))).to.equal(true);
  });

  it('claims oldest first, one per line, within each destination’s maxInFlight and rate slot, and takes the slots', () => {
    const due = [
      { id: 'a1', destination: 'hook', key: 'p1' },
      { id: 'a2', destination: 'hook', key: 'p1' },
      { id: 'a3', destination: 'hook', key: undefined },
      { id: 'a4', destination: 'hook', key: undefined },
      { id: 's1', destination: 'slack', key: undefined },
      { id: 's2', destination: 'slack', key: undefined },
      { id: 'm1', destination: 'mail', key: undefined },
    ];
    const inFlight = new Map([['hook', 1]]);
    const slots = new Map([['mail', 2_000]]);
    const { chosen, taken } = chooseClaimed(due, inFlight, slots, {
      max: 10,
      now: 1_000,
      maxInFlight: (name) => (name === 'hook' ? 3 : 5),
      minIntervalMs: (name) => (name === 'slack' ? 500 : undefined),
    });
    // a2 waits behind a1 in its line; hook has room for two beside its one in flight; slack takes one slot; mail's
    // slot has not come.
    expect(chosen.map((c) => c.id)).to.deep.equal(['a1', 'a3', 's1']);
    expect(inFlight.get('hook')).to.equal(3);
    expect([...taken]).to.deep.equal([['slack', 1_500]]);
    expect(slots.get('slack')).to.equal(1_500);
    const capped = chooseClaimed(due, new Map(), new Map(), { max: 2, now: 0, maxInFlight: () => 9 });
    expect(capped.chosen.map((c) => c.id)).to.deep.equal(['a1', 'a3']);
  });
});
