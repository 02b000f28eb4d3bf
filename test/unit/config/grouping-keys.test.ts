import { expect } from 'chai';
import { ConfigError, validateConfig } from '../../../src/config/load';
import { mergeDeep, readDefaultConfig } from '../../support/config';

const HOOK = 'https://hooks.slack.com/services/T0/B0/grouphooksecret';

function problemsOf(destination: Record<string, unknown>): string[] {
  try {
    validateConfig(mergeDeep(readDefaultConfig(), { destinations: { ops: destination } }));
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('config: group and ratePerSecond (issue 11)', () => {
  it('accepts group on Slack and email, ratePerSecond on Slack', () => {
    expect(problemsOf({ type: 'slack', url: HOOK, group: {}, ratePerSecond: 0.5 })).to.deep.equal([]);
    expect(
      problemsOf({
        type: 'email',
        transport: 'smtp://localhost:25',
        from: 'a@example.com',
        to: ['b@example.com'],
        group: { by: ['partner'], waitMs: 0, intervalMs: 60000 },
      }),
    ).to.deep.equal([]);
  });

  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'group on a webhook',
      { type: 'webhook', url: HOOK, secret: `whsec_${'A'.repeat(32)}`, group: {} },
      /Unknown key "group"/,
    ],
    [
      'ratePerSecond on email',
      { type: 'email', transport: 'smtp://h:25', from: 'a@b.io', to: ['c@d.io'], ratePerSecond: 1 },
      /Unknown key "ratePerSecond"/,
    ],
    [
      'a negative waitMs',
      { type: 'slack', url: HOOK, group: { waitMs: -1 } },
      /^destinations\.ops\.group\.waitMs: .*0 or more/,
    ],
    [
      'an intervalMs of 0',
      { type: 'slack', url: HOOK, group: { intervalMs: 0 } },
      /^destinations\.ops\.group\.intervalMs: .*above 0/,
    ],
    [
      'an empty by',
      { type: 'slack', url: HOOK, group: { by: [] } },
      /^destinations\.ops\.group\.by: .*at least one field/,
    ],
    ['a misspelt group key', { type: 'slack', url: HOOK, group: { wait: 10 } }, /Unknown key "wait"/],
    ['a rate of 0', { type: 'slack', url: HOOK, ratePerSecond: 0 }, /^destinations\.ops\.ratePerSecond: .*above 0/],
  ];
  for (const [what, destination, expected] of cases) {
    it(`refuses ${what}, naming the key and never the hook URL`, () => {
      const problems = problemsOf(destination);
      expect(
        problems.some((p) => expected.test(p)),
        problems.join('\n'),
      ).to.equal(true);
      expect(problems.join('\n')).not.to.include('grouphooksecret');
    });
  }
});
