import { expect } from 'chai';
import fc from 'fast-check';
import type { PayoutEvent } from '../../src/event';
import { extraText, keepExtraTexts, parseEvent, stringifyEvent } from '../../src/event-json';
import { minifyJson, scanMembers } from '../../src/raw-json';
import { digestContent, listDifferences } from '../../src/skypay/identity';
import { compileRules } from '../../src/routing/match';
import { planRoutes } from '../../src/routing/plan';
import { normalizeCallback } from '../../src/skypay/normalize';
import { buildPayoutEvent } from '../support/fixtures';

const BIG = '12345678901234567890.123';

describe("raw-json: the exact text of an object's members", () => {
  it("finds each member's text, which parses to what JSON.parse gives, whatever the layout", () => {
    const layouts = fc.constantFrom(0, 1, 4, '\t');
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), layouts, (object, indent) => {
        const text = ` ${JSON.stringify(object, null, indent)}\n`;
        const parsed = JSON.parse(text) as Record<string, unknown>;
        const members = scanMembers(text);
        expect(members, text).not.to.equal(undefined);
        expect([...(members?.keys() ?? [])].sort()).to.deep.equal(Object.keys(parsed).sort());
        for (const [key, raw] of members ?? []) expect(JSON.parse(raw)).to.deep.equal(parsed[key]);
        for (const raw of members?.values() ?? []) expect(minifyJson(raw)).to.equal(JSON.stringify(JSON.parse(raw)));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps numbers digit for digit, takes the last of a repeated key, and gives up on what is not an object', () => {
    const members = scanMembers(` { "a" : ${BIG} , "b":[1.50, {"c":"x\\"}"}], "a":1e400 } `);
    expect(Object.fromEntries(members ?? [])).to.deep.equal({ a: '1e400', b: '[1.50, {"c":"x\\"}"}]' });
    expect(scanMembers('[1, 2]')).to.equal(undefined);
    expect(scanMembers('"text"')).to.equal(undefined);
  });
});

describe('event-json: extra fields as sent', () => {
  const text = `{"userName":"A","controlNumber":"SK99123456789","payType":"2","dealTime":"2018-08-07 11:58:33",
    "amount": ${BIG}, "fees": {"rate": 1.10, "list": [2e3]}, "note": "ok"}`;
  const sent = (): PayoutEvent => {
    const raw = JSON.parse(text) as Record<string, unknown>;
    const callback = { ...raw, action: 'payoutQueuePayout', failDescription: null, referenceNumber: null } as never;
    return normalizeCallback(callback, raw, 480, new Date('2026-01-01T00:00:00Z'), text);
  };

  it('writes extra fields with the text SkyPay sent, reads them back the same, and routes on the parsed values', () => {
    const event = sent();
    expect(event.extra['amount']).to.be.a('number');
    const rules = compileRules([{ name: 'big', match: { amount: { exists: true }, note: 'ok' }, to: ['x'] }]);
    expect(planRoutes(event, rules).map((r) => r.destination)).to.deep.equal(['x']);
    const stored = stringifyEvent(event);
    expect(stored).to.include(`"amount":${BIG}`).and.include('"fees":{"rate": 1.10, "list": [2e3]}');
    expect(JSON.parse(stored)).to.deep.equal(JSON.parse(JSON.stringify(event)));
    const again = parseEvent(stored);
    expect(stringifyEvent(again)).to.equal(stored);
    expect(extraText((again as PayoutEvent).extra, 'amount')).to.equal(BIG);
  });

  it('is plain JSON.stringify for events without kept text', () => {
    const event = buildPayoutEvent();
    expect(stringifyEvent(event)).to.equal(JSON.stringify(event));
    const extra = { a: 1 };
    keepExtraTexts(
      extra,
      new Map([
        ['a', '1.0'],
        ['not-in-extra', '2'],
      ]),
    );
    expect(extraText(extra, 'a')).to.equal('1.0');
  });
});

describe('skypay/identity: what makes a copy a conflict', () => {
  it('compares content beyond the identity, exactly but not by layout, and names what differs', () => {
    const first = buildPayoutEvent();
    const same = buildPayoutEvent({ id: 'evt_other', receivedAt: '2026-01-01T00:00:00.000Z', duplicates: 3 });
    expect(digestContent(same).equals(digestContent(first))).to.equal(true);
    expect(listDifferences(first, same)).to.deep.equal([]);

    const other = buildPayoutEvent({ referenceNumber: 'REF-X', extra: { ...first.extra, amount: 1 } });
    expect(digestContent(other).equals(digestContent(first))).to.equal(false);
    expect(listDifferences(first, other)).to.deep.equal(['referenceNumber', 'extra.amount']);

    const a = buildPayoutEvent({ extra: { amount: 1 } });
    const b = buildPayoutEvent({ extra: { amount: 1 } });
    keepExtraTexts(a.extra, new Map([['amount', `${BIG}`]]));
    keepExtraTexts(b.extra, new Map([['amount', '12345678901234567890.124']]));
    expect(listDifferences(a, b), 'numbers that round alike still differ').to.deep.equal(['extra.amount']);
    const c = buildPayoutEvent({ extra: { amount: 1 } });
    keepExtraTexts(c.extra, new Map([['amount', ` ${BIG} `]]));
    expect(digestContent(c).equals(digestContent(a)), 'layout alone is no conflict').to.equal(true);
  });
});
