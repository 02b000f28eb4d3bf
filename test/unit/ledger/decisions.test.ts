import { expect } from 'chai';
import { originOf, sumTally, TALLY_QUARTER_MS } from '../../../src/ledger/decisions';
import { buildFinanceEvent, buildPayoutEvent, buildRejectionEvent } from '../../support/fixtures';

describe('ledger/decisions: where an event came from and the callback tally', () => {
  it('tells a callback from a reconciled status and from skyrelay’s own events', () => {
    expect(originOf(buildPayoutEvent())).to.equal('callback');
    expect(originOf(buildFinanceEvent())).to.equal('callback');
    expect(originOf(buildPayoutEvent({ origin: 'reconciliation' }))).to.equal('reconciliation');
    expect(originOf(buildRejectionEvent())).to.equal('skyrelay');
  });

  it('sums a batch per quarter hour, partner and outcome, in key order', () => {
    const q = 1_700_000_100_000 - (1_700_000_100_000 % TALLY_QUARTER_MS);
    const sums = sumTally([
      { partner: 'b', receivedMs: q + TALLY_QUARTER_MS, outcome: 'event' },
      { partner: 'b', receivedMs: q + 1, outcome: 'event' },
      { partner: 'a', receivedMs: q + TALLY_QUARTER_MS - 1, outcome: 'event' },
      { partner: 'b', receivedMs: q, outcome: 'duplicate' },
      { partner: 'b', receivedMs: q + 5, outcome: 'event' },
      { partner: 'a', receivedMs: q, outcome: 'copy' },
    ]);
    expect(sums).to.deep.equal([
      [q, 'a', 'copy', 1],
      [q, 'a', 'event', 1],
      [q, 'b', 'duplicate', 1],
      [q, 'b', 'event', 2],
      [q + TALLY_QUARTER_MS, 'b', 'event', 1],
    ]);
    expect(sumTally([])).to.deep.equal([]);
  });
});
