import { expect } from 'chai';
import { validate } from 'superstruct';
import type { RelayEvent, SystemEvent } from '../../../src/event';
import { EVENT_KINDS, findIdentityProblems, listReceivedTypes } from '../../../src/routing/event-types';
import { compileRules } from '../../../src/routing/match';
import { planRoutes } from '../../../src/routing/plan';
import { RulesConfig, type MatcherValue } from '../../../src/routing/schema';
import { buildDeadDeliveryEvent, buildFinanceEvent, buildPaidEvent, buildPayoutEvent } from '../../support/fixtures';

const recharge = buildFinanceEvent({ signType: 'recharge' });
const reduce = buildFinanceEvent({ signType: 'reduce' });
const paid = buildPaidEvent();
const failure = buildPayoutEvent();
const dead = buildDeadDeliveryEvent();
const anomaly: SystemEvent = { ...dead, type: 'payout.anomaly', data: { state: 'paid', kind: 'after-final' } };
const ALL: Record<string, RelayEvent> = { recharge, reduce, paid, failure, dead, anomaly };

/** Which of ALL a one-rule configuration sends somewhere, planned as the daemon plans. */
function receivers(match: Record<string, MatcherValue>): string[] {
  const rules = compileRules([{ name: 'r', match, to: ['d'] }]);
  return Object.entries(ALL)
    .filter(([, event]) => planRoutes(event, rules).length === 1)
    .map(([name]) => name);
}

function problemsOfMatch(match: unknown): string[] {
  const [error] = validate([{ name: 'r', match, to: ['d'] }], RulesConfig);
  return error ? error.failures().map((f) => `${f.path.join('.')}: ${f.message}`) : [];
}

describe('routing/event-types: rules by the type names consumers see', () => {
  it('matches the names webhook bodies carry as well as the events’ own types', () => {
    expect(receivers({ type: 'skypay.finance.recharge' })).to.deep.equal(['recharge']);
    expect(receivers({ type: 'skypay.finance.reduce' })).to.deep.equal(['reduce']);
    expect(receivers({ type: 'finance' })).to.deep.equal(['recharge', 'reduce']);
    expect(receivers({ type: 'skypay.payout.failure' })).to.deep.equal(['failure']);
    expect(receivers({ type: ['skypay.payout.paid', 'skyrelay.payout.anomaly'] })).to.deep.equal(['paid', 'anomaly']);
    expect(receivers({ type: 'payout' })).to.deep.equal(['paid', 'failure']);
    expect(receivers({ type: 'payout.anomaly' })).to.deep.equal(['anomaly']);
    expect(receivers({ type: 'skyrelay.delivery.dead' })).to.deep.equal(['dead']);
  });

  it('lets pattern operators and not see both names', () => {
    expect(receivers({ type: { prefix: 'skypay.payout.' } })).to.deep.equal(['paid', 'failure']);
    expect(receivers({ type: { prefix: 'skyrelay.' } })).to.deep.equal(['dead', 'anomaly']);
    expect(receivers({ type: { regex: '^skypay\\.finance\\.re(charge|duce)$' } })).to.deep.equal([
      'recharge',
      'reduce',
    ]);
    expect(receivers({ type: { not: 'skypay.payout.paid' } })).to.deep.equal([
      'recharge',
      'reduce',
      'failure',
      'dead',
      'anomaly',
    ]);
  });

  it('keeps a match without source or type away from skyrelay’s events', () => {
    expect(planRoutes(anomaly, compileRules([{ name: 'r', to: ['d'] }]))).to.deep.equal([]);
    expect(receivers({ partner: { exists: true } })).to.deep.equal(['recharge', 'reduce', 'paid', 'failure']);
  });
});

describe('routing/event-types: a source or type no event has is refused', () => {
  const refused: [string, unknown, RegExp][] = [
    [
      'a misspelt webhook name',
      { type: 'skypay.payouts.paid' },
      /^0\.match: type: no event has type "skypay\.payouts\.paid" \(expected payout, finance, one of skyrelay's rejection, .*skypay\.payout\.<status>/,
    ],
    ['a status that is no status', { type: 'skypay.payout.refunded' }, /no event has type "skypay\.payout\.refunded"/],
    ['one bad value in a list', { type: ['payout', 'finanse'] }, /^0\.match: type: no event has type "finanse"/],
    ['a bad value under not', { type: { not: 'payouts' } }, /no event has type "payouts"/],
    [
      'a prefix no name has',
      { type: { prefix: 'skypay.payouts.' } },
      /^0\.match: type: \{"prefix":"skypay\.payouts\."\} fits no event type/,
    ],
    ['a regex no name fits', { type: { regex: '^finance\\.' } }, /fits no event type/],
    ['a number', { type: 1 }, /no event has type 1/],
    ['the group messages, which rules never route', { type: 'group' }, /no event has type "group"/],
    [
      'a source in other letters',
      { source: 'SkyPay' },
      /^0\.match: source: no event has source "SkyPay" \(expected skypay or skyrelay\)$/,
    ],
    [
      'a source prefix no source has',
      { source: { prefix: 'sky-' } },
      /source: \{"prefix":"sky-"\} fits no event source/,
    ],
    [
      'a source and a type no event has together',
      { source: 'skyrelay', type: 'skypay.payout.paid' },
      /^0\.match: source, type: no event has both this source and this type \(types by source: skypay: payout, finance; skyrelay: rejection, /,
    ],
  ];
  for (const [name, match, expected] of refused) {
    it(`refuses ${name}`, () => {
      expect(problemsOfMatch(match).join('\n')).to.match(expected);
    });
  }

  it('accepts every name an event goes by, and operators that fit one', () => {
    for (const kind of EVENT_KINDS) {
      expect(problemsOfMatch({ type: kind.name }), kind.name).to.deep.equal([]);
      expect(problemsOfMatch({ type: kind.type, source: kind.source }), kind.type).to.deep.equal([]);
    }
    expect(problemsOfMatch({ type: { prefix: 'payout.' }, source: 'skyrelay' })).to.deep.equal([]);
    expect(problemsOfMatch({ type: { exists: true } })).to.deep.equal([]);
    expect(findIdentityProblems({ source: { not: 'skyrelay' } })).to.deep.equal([]);
  });
});

describe('routing/event-types: listReceivedTypes', () => {
  it('lists what a rule receives by source, type, payType, status and signType', () => {
    expect(listReceivedTypes({ type: 'payout.anomaly' }, true)).to.deep.equal(['skyrelay.payout.anomaly']);
    expect(listReceivedTypes({ status: ['failure', 'amendedFailure'] }, false)).to.deep.equal([
      'skypay.payout.failure',
      'skypay.payout.amendedFailure',
    ]);
    expect(listReceivedTypes({ signType: 'reduce' }, false)).to.deep.equal(['skypay.finance.reduce']);
    expect(listReceivedTypes(undefined, false)).to.have.length(8);
    expect(listReceivedTypes({ source: 'skyrelay' }, true)).to.deep.equal([
      'skyrelay.rejection',
      'skyrelay.delivery.dead',
      'skyrelay.callback.conflict',
      'skyrelay.database.lost',
      'skyrelay.destination.unhealthy',
      'skyrelay.destination.recovered',
      'skyrelay.payout.anomaly',
      'skyrelay.payout.stuck',
      'skyrelay.payout.unstuck',
      'skyrelay.payout.confirmed',
      'skyrelay.ledger.daily',
    ]);
    // Documented fields only: a finance notification carries no status.
    expect(listReceivedTypes({ type: 'finance', status: 'paid' }, true)).to.deep.equal([]);
  });
});
