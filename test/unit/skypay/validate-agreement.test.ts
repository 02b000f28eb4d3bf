import { expect } from 'chai';
import fc from 'fast-check';
import { create } from 'superstruct';
import { createCallbackStruct } from '../../../src/skypay/validate';
import { validateCallback } from '../../../src/ingest/validate';

/**
 * validateCallback takes a hand-written fast path for bodies that pass and
 * leaves superstruct to judge the rest. The struct is the specification:
 * this property keeps the two from drifting apart.
 */
describe('skypay/validate fast path agrees with the superstruct schema', () => {
  const struct = createCallbackStruct(480);
  const field = <T>(good: fc.Arbitrary<T>) =>
    fc.oneof(
      { weight: 4, arbitrary: good },
      { weight: 1, arbitrary: fc.constantFrom(undefined, null, 0, 7, 1.5, '', ' 1', true, [], {}, 'x'.repeat(51)) },
      { weight: 1, arbitrary: fc.string() },
    );
  const body = fc.record(
    {
      userName: field(fc.constantFrom('AppName@skypay', 'a')),
      action: field(fc.constant('payoutQueuePayout')),
      authentication: field(fc.constantFrom('30AC21B2-9EAA-4503-B0F0-7BE5C277ED75')),
      controlNumber: field(fc.stringMatching(/^[A-Za-z0-9]{12,16}$/)),
      payType: field(fc.oneof(fc.integer({ min: 0, max: 7 }), fc.constantFrom('1', '2', '6', '0', '7', '01'))),
      dealTime: field(
        fc.constantFrom('2018-08-07 11:58:33', '2024-02-29 00:00:00', '2023-02-29 00:00:00', '0001-01-01 00:00:00'),
      ),
      failDescription: field(fc.string()),
      referenceNumber: field(fc.string()),
      extra: fc.option(fc.jsonValue(), { nil: undefined }),
    },
    { requiredKeys: [] },
  );

  it('accepts exactly what the struct accepts, with the same result', () => {
    fc.assert(
      fc.property(body, (raw) => {
        const input = JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
        const [structOk, expected] = outcomeOf(() => create(input, struct));
        const [fastOk, actual] = outcomeOf(() => validateCallback(input, struct));
        expect(fastOk, JSON.stringify(input)).to.equal(structOk);
        if (structOk) expect(actual).to.deep.equal(expected);
      }),
      { numRuns: 3000 },
    );
  });
});

function outcomeOf(run: () => unknown): [boolean, unknown] {
  try {
    return [true, run()];
  } catch {
    return [false, undefined];
  }
}
