import { expect } from 'chai';
import { compileRules, routeEvent } from '../../../src/routing/match';
import { buildFinanceEvent, buildPayoutEvent } from '../../support/fixtures';

describe('routing finance notifications', () => {
  const rules = compileRules([
    { name: 'top-ups', match: { statementType: 1, signType: 'recharge' }, to: ['slack'] },
    { name: 'big', match: { amount: { regex: '^\\d{8,}$' }, currency: 'PHP' }, to: ['email'] },
    { name: 'one-account', match: { accountNo: '091234567899', statementType: ['5', '6'] }, to: ['ledger'] },
    { name: 'failures', match: { payType: 'failure' }, to: ['pager'] },
    { name: 'everything', to: ['archive'] },
  ]);
  const destinations = (event: Parameters<typeof routeEvent>[0]): string[] =>
    routeEvent(event, rules).map((r) => r.destination);

  it('matches statementType, signType, amount, currency and accountNo, as numbers or their text', () => {
    expect(destinations(buildFinanceEvent())).to.deep.equal(['slack', 'email', 'archive']);
    expect(destinations(buildFinanceEvent({ statementType: 6, signType: 'reduce', amount: 10 }))).to.deep.equal([
      'ledger',
      'archive',
    ]);
    expect(destinations(buildFinanceEvent({ currency: 'USD' }))).to.deep.equal(['slack', 'archive']);
  });

  it('never matches a payout rule on a finance notification, nor a finance rule on a payout', () => {
    expect(destinations(buildPayoutEvent())).to.deep.equal(['pager', 'archive']);
    expect(destinations(buildFinanceEvent())).not.to.include('pager');
  });
});
