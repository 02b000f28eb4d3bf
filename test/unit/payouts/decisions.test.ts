import { expect } from 'chai';
import type { PayoutHistoryEntry } from '../../../src/event';
import { sortHistory } from '../../../src/payouts/decisions';

describe('payouts/decisions: a payout’s timeline in order', () => {
  it('orders by dealTime, and entries of one dealTime by when they arrived', () => {
    const entry = (eventId: string, dealTime: string, receivedAt: string): PayoutHistoryEntry => ({
      eventId,
      status: 'paid',
      dealTime,
      receivedAt,
      kind: null,
    });
    const sorted = sortHistory([
      entry('c', '20260102120000', '2026-01-02T04:00:01.000Z'),
      entry('b', '20260102120000', '2026-01-02T04:00:00.000Z'),
      entry('d', '20260103000000', '2026-01-01T00:00:00.000Z'),
      entry('a', '20260101090000', '2026-01-05T00:00:00.000Z'),
    ]);
    expect(sorted.map((e) => e.eventId)).to.deep.equal(['a', 'b', 'c', 'd']);
  });
});
