import { expect } from 'chai';
import { createId } from '../../src/ids';

describe('ids', () => {
  it('are unique and sort by creation time across many refills of the random pool', async () => {
    const first = Array.from({ length: 5_000 }, () => createId('dlv'));
    expect(new Set(first).size).to.equal(first.length);
    for (const id of first) expect(id).to.match(/^dlv_[0-9a-hjkmnp-tv-z]{26}$/);
    const at = Date.now();
    while (Date.now() === at) await new Promise((resolve) => setImmediate(resolve));
    const later = createId('evt').slice(4);
    expect(first.every((id) => id.slice(4, 14) <= later.slice(0, 10))).to.equal(true);
    expect(first.map((id) => id.slice(4)).every((id) => id < later)).to.equal(true);
  });

  it('spread their random part over every letter, the last one included', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 3_200; i++) {
      const last = createId('evt').slice(-1);
      counts.set(last, (counts.get(last) ?? 0) + 1);
    }
    // 32 letters, about 100 each: a letter never seen means bits that never vary.
    expect(counts.size).to.equal(32);
  });
});
