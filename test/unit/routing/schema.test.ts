import assert from 'node:assert/strict';
import { validate } from 'superstruct';
import { Matcher, RulesConfig, checkRules, type RuleConfig } from '../../../src/routing/schema';

/** All failure messages with their paths, as a config loader would print them. */
function problemsOf(value: unknown): string[] {
  const [error] = validate(value, RulesConfig);
  return error ? error.failures().map((f) => `${f.path.join('.')}: ${f.message}`) : [];
}

function problemsOfMatch(match: unknown): string[] {
  return problemsOf([{ name: 'r', match, to: ['d'] }]);
}

describe('routing/schema', () => {
  describe('valid configs', () => {
    it('accepts the documented example', () => {
      const config = [
        { name: 'payout-problems', match: { payType: ['failure', 'amendedFailure'] }, to: ['ops-slack', 'ops-email'] },
        { name: 'ledger-feed', to: ['ledger'] },
      ];
      assert.deepEqual(problemsOf(config), []);
      assert.deepEqual(checkRules(config, ['ops-slack', 'ops-email', 'ledger']), []);
    });

    it('accepts every matcher form', () => {
      const match = {
        partner: 'ACME',
        amount: 100,
        'extra.express': true,
        currency: ['PHP', 'USD'],
        controlNumber: { prefix: 'CN' },
        referenceNumber: { regex: '^REF-\\d+$' },
        failDescription: { contains: 'closed' },
        'extra.channel': { exists: false },
        action: { not: { not: ['a', 'b'] } },
        payType: [1, '2', 'cancel'],
        status: { not: 'paid' },
      };
      assert.deepEqual(problemsOfMatch(match), []);
    });

    it('accepts an empty rules list', () => {
      assert.deepEqual(problemsOf([]), []);
    });
  });

  describe('refused configs', () => {
    const refusals: Array<[label: string, config: unknown, pattern: RegExp]> = [
      [
        'invalid regex',
        [{ name: 'r', match: { partner: { regex: '(unclosed' } }, to: ['d'] }],
        /0\.match\.partner: invalid regex "\(unclosed"/,
      ],
      [
        'invalid regex under not',
        [{ name: 'r', match: { partner: { not: { regex: '[' } } }, to: ['d'] }],
        /not: invalid regex "\["/,
      ],
      [
        'unknown operator',
        [{ name: 'r', match: { partner: { startsWith: 'A' } }, to: ['d'] }],
        /unknown operator "startsWith" \(expected one of prefix, regex, contains, exists, not\)/,
      ],
      [
        'operator object with two keys',
        [{ name: 'r', match: { partner: { prefix: 'A', contains: 'B' } }, to: ['d'] }],
        /exactly one key.*got prefix, contains/,
      ],
      ['empty operator object', [{ name: 'r', match: { partner: {} }, to: ['d'] }], /exactly one key.*got none/],
      [
        'unknown status name in payType',
        [{ name: 'r', match: { payType: ['failure', 'failed'] }, to: ['d'] }],
        /payType: unknown status "failed" \(expected one of upload, paid, cancel, failure, amendedSuccess, amendedFailure/,
      ],
      [
        'unknown status name in status',
        [{ name: 'r', match: { status: 'settled' }, to: ['d'] }],
        /status: unknown status "settled"/,
      ],
      [
        'unknown status number under not',
        [{ name: 'r', match: { payType: { not: 7 } }, to: ['d'] }],
        /payType: unknown status 7/,
      ],
      ['boolean status', [{ name: 'r', match: { payType: true }, to: ['d'] }], /payType: unknown status true/],
      ['empty to', [{ name: 'r', to: [] }], /0\.to: .*empty/i],
      ['missing to', [{ name: 'r' }], /0\.to: /],
      ['empty name', [{ name: '', to: ['d'] }], /0\.name: .*empty/i],
      [
        'null matcher',
        [{ name: 'r', match: { referenceNumber: null }, to: ['d'] }],
        /null is not a matcher value; use \{"exists": false\}/,
      ],
      ['empty list', [{ name: 'r', match: { partner: [] }, to: ['d'] }], /non-empty list/],
      [
        'object inside a list',
        [{ name: 'r', match: { partner: [{ prefix: 'A' }] }, to: ['d'] }],
        /list item 0 must be a string, number or boolean/,
      ],
      [
        'non-boolean exists',
        [{ name: 'r', match: { partner: { exists: 'yes' } }, to: ['d'] }],
        /exists expects true or false/,
      ],
      ['non-string prefix', [{ name: 'r', match: { partner: { prefix: 1 } }, to: ['d'] }], /prefix expects a string/],
      ['unknown rule key', [{ name: 'r', matches: {}, to: ['d'] }], /0\.matches: /],
      [
        'a field no event has (a typo reads as a missing extra field, and {"exists": false} then matches everything)',
        [{ name: 'r', match: { payTyp: { exists: false } }, to: ['d'] }],
        /^0\.match: payTyp: unknown field \(did you mean "payType"\?\); .*or extra\.<name> for a field SkyPay sends/,
      ],
      [
        'a lookahead (RE2 syntax: matching stays linear in time)',
        [{ name: 'r', match: { failDescription: { regex: 'a(?=b)' } }, to: ['d'] }],
        /failDescription: invalid regex "a\(\?=b\)": invalid or unsupported Perl syntax: `\(\?=`/,
      ],
      [
        'a pattern too large once compiled',
        [{ name: 'r', match: { failDescription: { regex: '[\\s\\S]{1000}' } }, to: ['d'] }],
        /too large once compiled \(1002 RE2 instructions, at most 500/,
      ],
    ];
    for (const [label, config, pattern] of refusals) {
      it(`refuses ${label}`, () => {
        const problems = problemsOf(config);
        assert.match(problems.join('\n'), pattern);
      });
    }

    it('exposes the Matcher struct for single values', () => {
      assert.match(validate({ regex: '(' }, Matcher)[0]?.message ?? '', /invalid regex/);
      assert.equal(validate({ not: ['a', 1, false] }, Matcher)[0], undefined);
    });
  });

  describe('checkRules', () => {
    it('names an unknown destination with the configured ones', () => {
      const rules: RuleConfig[] = [
        { name: 'a', to: ['ops-slack'] },
        { name: 'b', to: ['ledgr'] },
      ];
      assert.deepEqual(checkRules(rules, ['ops-slack', 'ledger']), [
        'rules.1.to: unknown destination "ledgr" (configured: ops-slack, ledger)',
      ]);
    });

    it('says when no destinations are configured', () => {
      assert.deepEqual(checkRules([{ name: 'a', to: ['x'] }], []), [
        'rules.0.to: unknown destination "x" (configured: none)',
      ]);
    });

    it('refuses duplicate rule names', () => {
      const rules: RuleConfig[] = [
        { name: 'a', to: ['d'] },
        { name: 'b', to: ['d'] },
        { name: 'a', to: ['d'] },
      ];
      assert.deepEqual(checkRules(rules, ['d']), ['rules.2.name: duplicate rule name "a" (also rules.0)']);
    });
  });
});
