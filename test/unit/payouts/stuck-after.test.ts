import { expect } from 'chai';
import type { Config } from '../../../src/config/schema';
import {
  DEFAULT_STUCK_AFTER,
  describeStuckWaits,
  isStuckCheckOn,
  resolveStuckWaits,
  stuckAfterOf,
  stuckCutoffs,
} from '../../../src/payouts/stuck-after';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-27T08:00:00Z');

function payouts(overrides: Partial<Config['payouts']> = {}): Config['payouts'] {
  return { stuckAfter: {}, stuckAfterByPartner: {}, checkIntervalMs: 60_000, ...overrides };
}

describe('payouts/stuck-after: the wait per state and partner', () => {
  it('waits 72 h uploaded or amendedSuccess and 24 h amendedFailure when nothing is set', () => {
    expect(DEFAULT_STUCK_AFTER).to.deep.equal({
      uploaded: 72 * HOUR,
      amendedSuccess: 72 * HOUR,
      amendedFailure: 24 * HOUR,
    });
    expect(resolveStuckWaits(payouts())).to.deep.equal({ all: DEFAULT_STUCK_AFTER, byPartner: {} });
  });

  it('keeps payouts.stuckAfterMs the wait of every state it is set for, 0 turning the check off', () => {
    expect(resolveStuckWaits(payouts({ stuckAfterMs: 6 * HOUR })).all).to.deep.equal({
      uploaded: 6 * HOUR,
      amendedSuccess: 6 * HOUR,
      amendedFailure: 6 * HOUR,
    });
    const off = resolveStuckWaits(payouts({ stuckAfterMs: 0 }));
    expect(isStuckCheckOn(off)).to.equal(false);
    expect(stuckCutoffs(off, NOW)).to.deep.equal([]);
  });

  it('takes the most specific wait: partner and state, partner, state, stuckAfterMs, built in', () => {
    const waits = resolveStuckWaits(
      payouts({
        stuckAfterMs: 6 * HOUR,
        stuckAfter: { uploaded: 48 * HOUR },
        stuckAfterByPartner: { 'Online@skypay': { uploaded: 2 * HOUR }, 'Remit@skypay': 7 * 24 * HOUR },
      }),
    );
    expect(waits.all).to.deep.equal({ uploaded: 48 * HOUR, amendedSuccess: 6 * HOUR, amendedFailure: 6 * HOUR });
    expect(stuckAfterOf(waits, 'Online@skypay', 'uploaded')).to.equal(2 * HOUR);
    expect(stuckAfterOf(waits, 'Online@skypay', 'amendedFailure')).to.equal(6 * HOUR);
    expect(stuckAfterOf(waits, 'Remit@skypay', 'amendedSuccess')).to.equal(7 * 24 * HOUR);
    expect(stuckAfterOf(waits, 'Other@skypay', 'uploaded')).to.equal(48 * HOUR);
    expect(stuckAfterOf(resolveStuckWaits(payouts()), 'constructor', 'uploaded')).to.equal(72 * HOUR);
  });

  it('gives a partner a cutoff of its own only for a state where its wait differs, and none for a wait of 0', () => {
    const waits = resolveStuckWaits(
      payouts({
        stuckAfterMs: 6 * HOUR,
        stuckAfterByPartner: { 'Online@skypay': { uploaded: 2 * HOUR, amendedFailure: 0 } },
      }),
    );
    expect(stuckCutoffs(waits, NOW)).to.deep.equal([
      { state: 'uploaded', stateSinceBeforeMs: NOW - 6 * HOUR, exceptPartners: ['Online@skypay'] },
      { state: 'uploaded', stateSinceBeforeMs: NOW - 2 * HOUR, partner: 'Online@skypay' },
      { state: 'amendedSuccess', stateSinceBeforeMs: NOW - 6 * HOUR },
      { state: 'amendedFailure', stateSinceBeforeMs: NOW - 6 * HOUR, exceptPartners: ['Online@skypay'] },
    ]);
    // Only one partner is checked at all: the check still runs.
    const one = resolveStuckWaits(payouts({ stuckAfterMs: 0, stuckAfterByPartner: { 'Online@skypay': HOUR } }));
    expect(isStuckCheckOn(one)).to.equal(true);
    expect(stuckCutoffs(one, NOW).map((c) => [c.state, c.partner])).to.deep.equal([
      ['uploaded', 'Online@skypay'],
      ['amendedSuccess', 'Online@skypay'],
      ['amendedFailure', 'Online@skypay'],
    ]);
  });

  it('says the waits in one line for config check and the dashboard', () => {
    const waits = resolveStuckWaits(
      payouts({ stuckAfterByPartner: { 'Online@skypay': { uploaded: 90 * 60_000, amendedFailure: 0 } } }),
    );
    expect(describeStuckWaits(waits)).to.equal(
      'uploaded 3 d, amendedSuccess 3 d, amendedFailure 24 h; ' +
        'Online@skypay: uploaded 90 min, amendedSuccess 3 d, amendedFailure never',
    );
  });
});
