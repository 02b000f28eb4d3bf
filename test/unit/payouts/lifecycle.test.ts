import { expect } from 'chai';
import type { PayType, PayoutHistoryEntry, PayoutState, Transition } from '../../../src/event';
import {
  confirmationAfter,
  findSameTime,
  isAnomaly,
  judge,
  stateOf,
  type PayoutSoFar,
} from '../../../src/payouts/lifecycle';

const at = (state: PayoutState, lastDealTime = '2026-11-27 10:00:00'): PayoutSoFar => ({ state, lastDealTime });
const later = '2026-11-27 11:00:00';
const earlier = '2026-11-27 09:00:00';

describe('payout lifecycle (judge)', () => {
  const cases: [string, PayoutSoFar | undefined, PayType, string, Transition][] = [
    ['an unknown payout: first', undefined, 1, later, { from: null, to: 'uploaded', kind: 'first' }],
    [
      'paid with no upload before (online channels): first',
      undefined,
      2,
      later,
      { from: null, to: 'paid', kind: 'first' },
    ],
    ['uploaded then paid: forward', at('uploaded'), 2, later, { from: 'uploaded', to: 'paid', kind: 'forward' }],
    [
      'uploaded then cancelled: forward',
      at('uploaded'),
      3,
      later,
      { from: 'uploaded', to: 'cancelled', kind: 'forward' },
    ],
    ['uploaded then failed: forward', at('uploaded'), 4, later, { from: 'uploaded', to: 'failed', kind: 'forward' }],
    [
      'uploaded then amended: amendment',
      at('uploaded'),
      5,
      later,
      { from: 'uploaded', to: 'amendedSuccess', kind: 'amendment' },
    ],
    [
      'amendment failure: amendment',
      at('uploaded'),
      6,
      later,
      { from: 'uploaded', to: 'amendedFailure', kind: 'amendment' },
    ],
    [
      'amended then paid: forward',
      at('amendedSuccess'),
      2,
      later,
      { from: 'amendedSuccess', to: 'paid', kind: 'forward' },
    ],
    [
      'an upload older than the paid already seen: late, stays paid',
      at('paid'),
      1,
      earlier,
      { from: 'paid', to: 'paid', kind: 'late' },
    ],
    [
      'an older final closing an open payout: late, but final',
      at('uploaded'),
      2,
      earlier,
      { from: 'uploaded', to: 'paid', kind: 'late' },
    ],
    [
      'an older amendment of an uploaded payout: late, stays',
      at('uploaded'),
      5,
      earlier,
      { from: 'uploaded', to: 'uploaded', kind: 'late' },
    ],
    [
      'paid then an upload after it: after-final, stays paid',
      at('paid'),
      1,
      later,
      { from: 'paid', to: 'paid', kind: 'after-final' },
    ],
    [
      'paid then paid again (a new dealTime): after-final',
      at('paid'),
      2,
      later,
      { from: 'paid', to: 'paid', kind: 'after-final' },
    ],
    [
      'cancelled then amended: after-final',
      at('cancelled'),
      5,
      later,
      { from: 'cancelled', to: 'cancelled', kind: 'after-final' },
    ],
    ['paid then failed: conflict, stays paid', at('paid'), 4, later, { from: 'paid', to: 'paid', kind: 'conflict' }],
    [
      'paid then an older failure: still a conflict',
      at('paid'),
      4,
      earlier,
      { from: 'paid', to: 'paid', kind: 'conflict' },
    ],
    ['failed then cancelled: conflict', at('failed'), 3, later, { from: 'failed', to: 'failed', kind: 'conflict' }],
    [
      'the same dealTime is not late',
      at('uploaded', later),
      2,
      later,
      { from: 'uploaded', to: 'paid', kind: 'forward' },
    ],
  ];
  for (const [label, payout, payType, dealTime, expected] of cases) {
    it(label, () => expect(judge(payout, payType, dealTime)).to.deep.equal(expected));
  }

  it('maps every payType to its state', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => stateOf(n as PayType))).to.deep.equal([
      'uploaded',
      'paid',
      'cancelled',
      'failed',
      'amendedSuccess',
      'amendedFailure',
    ]);
  });

  it('calls only after-final and conflict anomalies', () => {
    const kinds = ['first', 'forward', 'amendment', 'late', 'after-final', 'conflict'] as const;
    expect(kinds.filter((kind) => isAnomaly({ from: 'paid', to: 'paid', kind }))).to.deep.equal([
      'after-final',
      'conflict',
    ]);
  });
});

describe('payout lifecycle: the same-time fingerprint and confirmation', () => {
  const entry = (status: PayoutHistoryEntry['status'], dealTime: string, copyOf?: string): PayoutHistoryEntry => ({
    eventId: `evt_${status}`,
    status,
    dealTime,
    receivedAt: '2026-11-27T02:00:00.000Z',
    kind: 'first',
    ...(copyOf ? { copyOf } : {}),
  });

  it('finds the status with exactly this dealTime, from the history or the newest dealTime', () => {
    const past = [entry('upload', '2026-11-27 10:00:00'), entry('amendedSuccess', '2026-11-27 11:00:00')];
    const payout = at('amendedSuccess', '2026-11-27 11:00:00');
    expect(findSameTime(payout, '2026-11-27 10:00:00', past)?.status?.status).to.equal('upload');
    expect(findSameTime(payout, '2026-11-27 11:00:00', past)?.status?.status).to.equal('amendedSuccess');
    // The status with that time was pruned: the newest dealTime still tells.
    expect(findSameTime(payout, '2026-11-27 11:00:00', [])).to.deep.equal({ status: undefined });
    expect(findSameTime(payout, '2026-11-27 10:30:00', past)).to.equal(undefined);
    expect(findSameTime(undefined, '2026-11-27 10:00:00', past)).to.equal(undefined);
    // A conflicting copy repeats a status's identity: it is not another status.
    expect(findSameTime(payout, '2026-11-27 09:00:00', [entry('paid', '2026-11-27 09:00:00', 'evt_x')])).to.equal(
      undefined,
    );
  });

  it('a payout becoming final by callback waits for confirmation; one SkyPay reported is confirmed; open ones have none', () => {
    const forward: Transition = { from: 'uploaded', to: 'paid', kind: 'forward' };
    expect(confirmationAfter('off', forward, 'callback', true)).to.equal('pending');
    expect(confirmationAfter('off', forward, 'callback', false)).to.equal('off');
    expect(confirmationAfter(undefined, { from: null, to: 'failed', kind: 'first' }, 'callback', true)).to.equal(
      'pending',
    );
    expect(confirmationAfter('off', forward, 'reconciliation', true)).to.equal('confirmed');
    // A late final status closing an open payout (a splice after an amendment) waits too.
    expect(confirmationAfter('off', { from: 'amendedSuccess', to: 'paid', kind: 'late' }, 'callback', true)).to.equal(
      'pending',
    );
    // Staying final keeps what it had; an open payout has nothing to confirm.
    for (const kept of ['pending', 'confirmed', 'contradicted', 'off'] as const) {
      expect(confirmationAfter(kept, { from: 'paid', to: 'paid', kind: 'after-final' }, 'callback', true)).to.equal(
        kept,
      );
    }
    expect(
      confirmationAfter('off', { from: 'uploaded', to: 'amendedSuccess', kind: 'amendment' }, 'callback', true),
    ).to.equal('off');
  });
});
