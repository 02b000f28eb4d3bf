import { expect } from 'chai';
import { compileGroupKey, readGroupKey, resolveGroupings, withGrouping } from '../../../src/routing/group';
import { createPlanner } from '../../../src/routing/plan';
import { resolveMinIntervals } from '../../../src/destinations/rate';
import { buildPayoutEvent, buildRejectionEvent } from '../../support/fixtures';

const destinations = {
  'ops-slack': { type: 'slack' as const, url: 'https://hooks.slack.com/services/T/B/X', group: {} },
  'ops-email': {
    type: 'email' as const,
    transport: 'smtp://localhost:25',
    from: 'a@example.com',
    to: ['b@example.com'],
    group: { by: ['partner'], waitMs: 0, intervalMs: 10 },
  },
  'plain-slack': { type: 'slack' as const, url: 'https://hooks.slack.com/services/T/B/Y', ratePerSecond: 4 },
  ledger: { type: 'webhook' as const, url: 'https://ledger.example/h', secret: `whsec_${'A'.repeat(32)}` },
};

describe('grouping in the planner', () => {
  it('fills in the defaults (by payType and partner, 30 s, 5 min) and never groups webhooks', () => {
    const groupings = resolveGroupings(destinations);
    expect(groupings.get('ops-slack')).to.deep.equal({
      by: ['payType', 'partner'],
      waitMs: 30_000,
      intervalMs: 300_000,
    });
    expect(groupings.get('ops-email')).to.deep.equal({ by: ['partner'], waitMs: 0, intervalMs: 10 });
    expect(groupings.has('plain-slack')).to.equal(false);
    expect(groupings.has('ledger')).to.equal(false);
  });

  it('keys a payout by its `by` values, payType by status name', () => {
    const key = compileGroupKey(['payType', 'partner'])(buildPayoutEvent({ partner: 'Acme@skypay' }));
    expect(key).to.equal('{"payType":"failure","partner":"Acme@skypay"}');
    expect(readGroupKey(key)).to.deep.equal({ payType: 'failure', partner: 'Acme@skypay' });
    expect(compileGroupKey(['extra.branchCode', 'missing'])(buildPayoutEvent())).to.equal(
      '{"extra.branchCode":"MNL-042","missing":null}',
    );
  });

  it('makes payouts to grouping destinations members, and leaves webhooks and skyrelay events alone', () => {
    const planner = createPlanner([{ name: 'all', to: ['ops-slack', 'ops-email', 'ledger'] }]);
    const plan = withGrouping(planner.plan, resolveGroupings(destinations));
    const planned = plan(buildPayoutEvent({ partner: 'Acme@skypay' }));
    const byDestination = new Map(planned.map((d) => [d.destination, d.groupKey]));
    expect(byDestination.get('ops-slack')).to.equal('{"payType":"failure","partner":"Acme@skypay"}');
    expect(byDestination.get('ops-email')).to.equal('{"partner":"Acme@skypay"}');
    expect(byDestination.get('ledger')).to.equal(undefined);
    const systemPlanner = createPlanner([{ name: 'sys', match: { type: 'rejection' }, to: ['ops-slack'] }]);
    const system = withGrouping(systemPlanner.plan, resolveGroupings(destinations))(buildRejectionEvent());
    expect(system).to.have.length(1);
    expect(system[0]?.groupKey).to.equal(undefined);
  });

  it('spaces Slack sends by 1000 / ratePerSecond ms (default 1 per second); others are not rate-limited', () => {
    const intervals = resolveMinIntervals(destinations);
    expect(intervals.get('ops-slack')).to.equal(1000);
    expect(intervals.get('plain-slack')).to.equal(250);
    expect(intervals.has('ops-email')).to.equal(false);
    expect(intervals.has('ledger')).to.equal(false);
  });
});
