import { expect } from 'chai';
import { RejectionSampler } from '../../../src/ingest/rejection-sampler';

describe('ingest/rejection-sampler', () => {
  const sampler = (maxSources = 100) => new RejectionSampler({ perWindow: 2, windowMs: 60_000, maxSources });

  it('keeps the first perWindow rejections per reason and address in a window, counts the rest on the last', () => {
    const s = sampler();
    const kept = [1, 2, 3, 4].map((i) => s.admit('unauthenticated', '10.0.0.1', `rej_${i}`, 1_000 + i));
    expect(kept).to.deep.equal([true, true, false, false]);
    expect(s.admit('invalid', '10.0.0.1', 'rej_5', 1_005)).to.equal(true);
    expect(s.admit('unauthenticated', '10.0.0.2', 'rej_6', 1_006)).to.equal(true);
    expect(s.drain(2_000)).to.deep.equal({ counts: [{ rejectionId: 'rej_2', count: 2 }], overflowed: 0 });
    expect(s.drain(3_000).counts).to.deep.equal([]);
  });

  it("opens a new window after windowMs, and still hands out the old one's count", () => {
    const s = sampler();
    for (let i = 0; i < 5; i++) s.admit('unauthenticated', 'a', `rej_${i}`, 0);
    expect(s.admit('unauthenticated', 'a', 'rej_new', 60_000)).to.equal(true);
    expect(s.drain(60_001).counts).to.deep.equal([{ rejectionId: 'rej_1', count: 3 }]);
  });

  it('tracks at most maxSources pairs, counting rejections beyond them as overflow', () => {
    const s = sampler(2);
    expect(s.admit('r', 'a', 'x1', 0)).to.equal(true);
    expect(s.admit('r', 'b', 'x2', 0)).to.equal(true);
    expect(s.admit('r', 'c', 'x3', 0)).to.equal(false);
    expect(s.drain(1).overflowed).to.equal(1);
    // Once their windows end, room is made for new sources.
    expect(s.admit('r', 'c', 'x4', 60_000)).to.equal(true);
  });
});
