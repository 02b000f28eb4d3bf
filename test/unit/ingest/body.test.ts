import { expect } from 'chai';
import { BodyBudget, parseSize } from '../../../src/ingest/body';

describe('ingest/body', () => {
  it('reads sizes the way server.bodyLimit is written (k = 1024)', () => {
    expect([parseSize('1mb'), parseSize('512kb'), parseSize('100b'), parseSize('1.5KB')]).to.deep.equal([
      1_048_576, 524_288, 100, 1_536,
    ]);
    expect(() => parseSize('huge')).to.throw(RangeError);
  });

  it('hands out its capacity and no more until given back', () => {
    const budget = new BodyBudget(100);
    expect([budget.tryTake(60), budget.tryTake(50), budget.tryTake(40)]).to.deep.equal([true, false, true]);
    budget.give(60);
    expect(budget.tryTake(60)).to.equal(true);
  });
});
