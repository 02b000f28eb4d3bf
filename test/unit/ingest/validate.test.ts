import { expect } from 'chai';
import { InvalidCallbackError } from '../../../src/ingest/rejections';
import { createCallbackStruct } from '../../../src/skypay/validate';
import { validateCallback } from '../../../src/ingest/validate';
import { buildCallback } from '../../support/skypay';

describe('ingest/validate', () => {
  const struct = createCallbackStruct(480);

  function rejection(body: Record<string, unknown>): InvalidCallbackError {
    try {
      validateCallback(body, struct);
    } catch (err) {
      if (err instanceof InvalidCallbackError) return err;
      throw err;
    }
    throw new Error('expected the callback to be refused');
  }

  it("accepts the documentation's sample and keeps unknown fields", () => {
    const body = buildCallback({ referenceNumber: 'MLA001041380755361119', newField: { a: 1 } });
    const cb = validateCallback(body, struct) as Record<string, unknown>;
    expect(cb['controlNumber']).to.equal(body['controlNumber']);
    expect(cb['newField']).to.deep.equal({ a: 1 });
    expect(cb['failDescription']).to.equal(null);
  });

  it('accepts payType as a number or a numeric string, 1 to 6', () => {
    for (const p of [1, 2, 3, 4, 5, 6, '1', '6']) {
      expect(() => validateCallback(buildCallback({ payType: p }), struct)).not.to.throw();
    }
  });

  it('accepts an empty or absent failDescription and a 13 to 15 character control number', () => {
    expect(() => validateCallback(buildCallback({ failDescription: '' }), struct)).not.to.throw();
    for (const cn of ['SK99123456789', 'SKY9912345678', 'SKY990123456789']) {
      expect(() => validateCallback(buildCallback({ controlNumber: cn }), struct)).not.to.throw();
    }
  });

  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['missing controlNumber', { controlNumber: undefined }, 'controlNumber', /required/],
    ['short controlNumber', { controlNumber: 'SK9912345678' }, 'controlNumber', /13 to 15 letters or digits/],
    ['long controlNumber', { controlNumber: 'SKY9901234567890' }, 'controlNumber', /13 to 15/],
    ['controlNumber with a dash', { controlNumber: 'SK99-12345678' }, 'controlNumber', /letters or digits/],
    ['payType 0', { payType: 0 }, 'payType', /1 to 6/],
    ['payType 7', { payType: '7' }, 'payType', /1 to 6/],
    ['payType 1.5', { payType: 1.5 }, 'payType', /1 to 6/],
    ['payType " 1"', { payType: ' 1' }, 'payType', /1 to 6/],
    ['payType as a word', { payType: 'paid' }, 'payType', /1 to 6/],
    ['wrong action', { action: 'payoutQueryStatus' }, 'action', /payoutQueuePayout/],
    ['ISO dealTime', { dealTime: '2018-08-07T11:58:33' }, 'dealTime', /yyyy-MM-dd HH:mm:ss/],
    ['impossible dealTime', { dealTime: '2018-02-30 11:58:33' }, 'dealTime', /real calendar time/],
    ['numeric failDescription', { failDescription: 42 }, 'failDescription', /string/],
    ['numeric referenceNumber', { referenceNumber: 42 }, 'referenceNumber', /string/],
    ['userName over 50', { userName: 'x'.repeat(51) }, 'userName', /1 to 50/],
  ];
  for (const [name, change, field, rule] of cases) {
    it(`refuses ${name}, naming ${field} and the rule`, () => {
      const err = rejection(buildCallback(change));
      expect(err.field).to.equal(field);
      expect(err.message).to.match(new RegExp(`^${field}: `));
      expect(err.rule).to.match(rule);
      expect(err.status).to.equal(400);
    });
  }
});
