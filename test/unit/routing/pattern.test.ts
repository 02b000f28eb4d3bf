import { expect } from 'chai';
import { compileRules, routeEvent } from '../../../src/routing/match';
import { MAX_PATTERN_TEXT, compilePattern, findPatternProblem } from '../../../src/routing/pattern';
import { buildPayoutEvent } from '../../support/fixtures';

describe('routing/pattern: regex matching that cannot freeze the event loop', () => {
  it('answers ^(a+)+$ against 40 a and a ! within 100 ms (a backtracking engine takes hours)', () => {
    const rules = compileRules([{ name: 'r', match: { failDescription: { regex: '^(a+)+$' } }, to: ['d'] }]);
    const event = buildPayoutEvent({ failDescription: `${'a'.repeat(40)}!` });
    const started = process.hrtime.bigint();
    const routes = routeEvent(event, rules);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(routes).to.deep.equal([]);
    expect(ms).to.be.below(100);
    expect(routeEvent(buildPayoutEvent({ failDescription: 'a'.repeat(40) }), rules)).to.have.length(1);
  });

  it('tests only the first MAX_PATTERN_TEXT characters of a text', () => {
    const test = compilePattern('needle');
    expect(test(`${'x'.repeat(100)}needle`)).to.equal(true);
    expect(test(`${'x'.repeat(MAX_PATTERN_TEXT)}needle`)).to.equal(false);
  });

  it('takes RE2 syntax: inline flags and classes work, lookaround and backreferences are refused with the reason', () => {
    expect(compilePattern('(?i)^insufficient')('Insufficient balance')).to.equal(true);
    expect(compilePattern('^[46]$')('4')).to.equal(true);
    expect(compilePattern('\\bclosed\\b')('Account closed.')).to.equal(true);
    expect(findPatternProblem('timeout|closed')).to.equal(undefined);
    expect(findPatternProblem('a(?=b)')).to.match(/invalid or unsupported Perl syntax: `\(\?=`.*no lookaround/);
    expect(findPatternProblem('(a)\\1')).to.match(/invalid escape sequence: `\\1`/);
  });

  it('refuses a pattern too large to test quickly, and a very long one before parsing it', () => {
    expect(findPatternProblem('.{400}')).to.equal(undefined);
    expect(findPatternProblem('[\\s\\S]{1000}')).to.match(
      /too large once compiled \(1002 RE2 instructions, at most 500/,
    );
    expect(findPatternProblem('a'.repeat(1001))).to.equal('at most 1000 characters');
  });
});
