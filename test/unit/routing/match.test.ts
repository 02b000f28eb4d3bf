import assert from 'node:assert/strict';
import type { PayoutEvent, RelayEvent } from '../../../src/event';
import { compileRules, describeRule, routeEvent } from '../../../src/routing/match';
import type { MatcherValue, RuleConfig } from '../../../src/routing/schema';
import { buildDeadDeliveryEvent, buildPaidEvent, buildPayoutEvent } from '../../support/fixtures';

/** True when a single-condition rule routes `event`. */
function fires(field: string, matcher: MatcherValue, event: RelayEvent): boolean {
  const rules = compileRules([{ name: 'r', match: { [field]: matcher }, to: ['d'] }]);
  return routeEvent(event, rules).length === 1;
}

// The values the cases below test, spelled out here rather than left to the fixtures' defaults.
const payoutFields = {
  action: 'payout.notify',
  partner: 'ACME-PH',
  controlNumber: 'CN0012345',
  dealTime: '2024-05-01 10:20:30',
  referenceNumber: 'REF-77',
  extra: { amount: '100', currency: 'PHP', express: true, 'extra.dotted': 'literal' },
};
const paid = buildPaidEvent(payoutFields);
const failure = buildPayoutEvent({ ...payoutFields, failDescription: 'Account closed' });
const amendedFailure: PayoutEvent = { ...failure, payType: 6, status: 'amendedFailure' };
const system = buildDeadDeliveryEvent({
  data: { destination: 'ops-slack', attempts: 5, permanent: false, reason: null },
});

type Case = [label: string, field: string, matcher: MatcherValue, event: RelayEvent, expected: boolean];

const cases: Case[] = [
  // scalar equals
  ['equals a payout field', 'partner', 'ACME-PH', paid, true],
  ['equals is case-sensitive', 'partner', 'acme-ph', paid, false],
  ['equals an extra field by name', 'currency', 'PHP', paid, true],
  ['equals an extra field via extra.<name>', 'extra.currency', 'PHP', paid, true],
  ['a literal dotted extra key wins over the prefix form', 'extra.dotted', 'literal', paid, true],
  ['number equals a numeric-string extra', 'amount', 100, paid, true],
  ['numeric string equals a numeric string', 'amount', '100', paid, true],
  ['number differs from another numeric string', 'amount', 101, paid, false],
  ['number equals a number in system data', 'attempts', 5, system, true],
  ['numeric string equals a number in system data', 'attempts', '5', system, true],
  ['strings compare exactly (no numeric widening)', 'amount', '100.0', paid, false],
  ['boolean equals a boolean extra', 'express', true, paid, true],
  ['boolean false does not equal true', 'express', false, paid, false],
  ['equals on a null field does not match', 'failDescription', 'x', paid, false],
  ['equals on a missing field does not match', 'nosuch', 'x', paid, false],
  ['prototype names read as missing', 'constructor', 'x', paid, false],
  // list any-of
  ['any-of matches one entry', 'partner', ['OTHER', 'ACME-PH'], paid, true],
  ['any-of with no entry matching', 'partner', ['OTHER', 'NOPE'], paid, false],
  ['any-of mixes numbers and numeric strings', 'amount', [99, 100], paid, true],
  ['any-of on a missing field', 'nosuch', ['a', 'b'], paid, false],
  // prefix
  ['prefix matches', 'controlNumber', { prefix: 'CN00' }, paid, true],
  ['prefix does not match', 'controlNumber', { prefix: 'XX' }, paid, false],
  ['prefix on a number (as string)', 'attempts', { prefix: '5' }, system, true],
  ['prefix on a null field', 'failDescription', { prefix: '' }, paid, false],
  // regex
  ['regex matches', 'referenceNumber', { regex: '^REF-\\d+$' }, paid, true],
  ['regex does not match', 'referenceNumber', { regex: '^X' }, paid, false],
  ['regex on a boolean (as string)', 'express', { regex: '^true$' }, paid, true],
  ['regex on a missing field', 'nosuch', { regex: '.*' }, paid, false],
  // contains
  ['contains matches', 'failDescription', { contains: 'closed' }, failure, true],
  ['contains does not match', 'failDescription', { contains: 'frozen' }, failure, false],
  ['contains on a null field', 'failDescription', { contains: 'closed' }, paid, false],
  // exists
  ['exists true on a present field', 'referenceNumber', { exists: true }, paid, true],
  ['exists true on a null field', 'failDescription', { exists: true }, paid, false],
  ['exists true on a missing field', 'nosuch', { exists: true }, paid, false],
  ['exists false on a null field', 'failDescription', { exists: false }, paid, true],
  ['exists false on a missing field', 'nosuch', { exists: false }, paid, true],
  ['exists false on a present field', 'partner', { exists: false }, paid, false],
  ['exists true on null system data', 'reason', { exists: true }, system, false],
  // not
  ['not scalar', 'partner', { not: 'ACME-PH' }, paid, false],
  ['not scalar, other value', 'partner', { not: 'OTHER' }, paid, true],
  ['not list', 'partner', { not: ['A', 'ACME-PH'] }, paid, false],
  ['not operator', 'controlNumber', { not: { prefix: 'XX' } }, paid, true],
  ['not on a missing field inverts a non-match', 'nosuch', { not: 'x' }, paid, true],
  ['not exists false means exists', 'failDescription', { not: { exists: false } }, failure, true],
  ['nested not cancels out', 'partner', { not: { not: 'ACME-PH' } }, paid, true],
  ['nested not of a non-match', 'partner', { not: { not: { regex: '^Z' } } }, paid, false],
  // payType and status
  ['payType by name', 'payType', 'failure', failure, true],
  ['payType by number', 'payType', 4, failure, true],
  ['payType by numeric string', 'payType', '4', failure, true],
  ['payType by other name', 'payType', 'failure', paid, false],
  ['payType any-of mixing spellings', 'payType', ['upload', 4, '6'], failure, true],
  ['payType prefix on the name', 'payType', { prefix: 'amended' }, amendedFailure, true],
  ['payType regex on the number', 'payType', { regex: '^[46]$' }, failure, true],
  ['payType not', 'payType', { not: ['failure', 'amendedFailure'] }, paid, true],
  ['status by name', 'status', 'paid', paid, true],
  ['status by number', 'status', 2, paid, true],
  ['status by numeric string', 'status', '4', paid, false],
  ['status contains', 'status', { contains: 'Fail' }, amendedFailure, true],
  ['payType on a system event is missing', 'payType', 'failure', system, false],
  ['payType exists false on a system event', 'payType', { exists: false }, system, true],
  // other payout fields
  ['source', 'source', 'skypay', paid, true],
  ['type', 'type', 'payout', paid, true],
  ['action', 'action', { prefix: 'payout.' }, paid, true],
  ['dealTime', 'dealTime', { prefix: '2024-05-01' }, paid, true],
  // system events
  ['system source', 'source', 'skyrelay', system, true],
  ['system type', 'type', 'delivery.dead', system, true],
  ['system type any-of', 'type', ['rejection'], system, false],
  ['system data key', 'destination', 'ops-slack', system, true],
  ['system data boolean', 'permanent', false, system, true],
  ['payout fields are missing on system events', 'partner', { exists: false }, system, true],
];

describe('routing/match', () => {
  describe('matchers', () => {
    for (const [label, field, matcher, event, expected] of cases) {
      it(`${label}: ${field} ${JSON.stringify(matcher)} -> ${expected}`, () => {
        assert.equal(fires(field, matcher, event), expected);
      });
    }
  });

  describe('rules', () => {
    it('requires every key of a match to hold', () => {
      const rules = compileRules([{ name: 'r', match: { payType: 'failure', partner: 'OTHER' }, to: ['d'] }]);
      assert.deepEqual(routeEvent(failure, rules), []);
      assert.deepEqual(routeEvent({ ...failure, partner: 'OTHER' }, rules), [{ destination: 'd', rules: ['r'] }]);
    });

    it('a rule without match matches every event', () => {
      const rules = compileRules([{ name: 'all', to: ['d'] }]);
      for (const event of [paid, failure, system]) {
        assert.deepEqual(routeEvent(event, rules), [{ destination: 'd', rules: ['all'] }]);
      }
    });

    it('deduplicates destinations named by several rules and records every rule, in order', () => {
      const rules = compileRules([
        { name: 'a', match: { payType: 4 }, to: ['slack', 'email'] },
        { name: 'b', match: { payType: 2 }, to: ['slack'] },
        { name: 'c', to: ['ledger', 'slack'] },
        { name: 'd', match: { partner: 'ACME-PH' }, to: ['email', 'email'] },
      ]);
      assert.deepEqual(routeEvent(failure, rules), [
        { destination: 'slack', rules: ['a', 'c'] },
        { destination: 'email', rules: ['a', 'd'] },
        { destination: 'ledger', rules: ['c'] },
      ]);
    });

    it('routes nothing when no rule matches', () => {
      const rules = compileRules([{ name: 'a', match: { payType: 'cancel' }, to: ['x'] }]);
      assert.deepEqual(routeEvent(paid, rules), []);
    });
  });

  describe('the documented example config', () => {
    const example: RuleConfig[] = [
      { name: 'payout-problems', match: { payType: ['failure', 'amendedFailure'] }, to: ['ops-slack', 'ops-email'] },
      { name: 'ledger-feed', to: ['ledger'] },
    ];
    const compiled = compileRules(example);

    it('sends a failure to ops-slack, ops-email and ledger', () => {
      assert.deepEqual(routeEvent(failure, compiled), [
        { destination: 'ops-slack', rules: ['payout-problems'] },
        { destination: 'ops-email', rules: ['payout-problems'] },
        { destination: 'ledger', rules: ['ledger-feed'] },
      ]);
    });

    it('sends a paid payout to the ledger only', () => {
      assert.deepEqual(routeEvent(paid, compiled), [{ destination: 'ledger', rules: ['ledger-feed'] }]);
    });

    it('describes which statuses each rule fires on', () => {
      assert.deepEqual(describeRule(example[0]!), ['failure', 'amendedFailure']);
      assert.deepEqual(describeRule(example[1]!), [
        'upload',
        'paid',
        'cancel',
        'failure',
        'amendedSuccess',
        'amendedFailure',
      ]);
    });
  });

  describe('describeRule', () => {
    const describeMatch = (match: RuleConfig['match']) => describeRule({ name: 'r', match, to: ['d'] });

    it('combines payType and status constraints', () => {
      assert.deepEqual(describeMatch({ payType: { prefix: 'amended' }, status: { not: 5 } }), ['amendedFailure']);
    });
    it('handles numbers, numeric strings and not', () => {
      assert.deepEqual(describeMatch({ payType: { not: ['1', 2, 'cancel'] } }), [
        'failure',
        'amendedSuccess',
        'amendedFailure',
      ]);
    });
    it('ignores conditions on other fields', () => {
      assert.deepEqual(describeMatch({ partner: 'X', status: 'paid' }), ['paid']);
    });
  });
});
