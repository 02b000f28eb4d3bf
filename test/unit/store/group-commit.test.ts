import { expect } from 'chai';
import { createBatcher } from '../../../src/store/group-commit';

class Busy extends Error {
  readonly code = 'SQLITE_BUSY';
}
class Gone extends Error {}

const isBusy = (err: unknown): boolean => err instanceof Busy;

describe('store/group-commit', () => {
  it('waits for a refused lock off the event loop and commits the whole batch once it is free', async () => {
    let refusals = 2;
    const batches: number[][] = [];
    const batcher = createBatcher(
      async (items: number[]) => {
        if (refusals-- > 0) throw new Busy('locked');
        batches.push(items);
        return items.map((i) => i * 10);
      },
      { maxBatch: 10, busyTimeoutMs: 1_000, isBusy },
    );
    const results = await Promise.all([1, 2, 3].map((i) => batcher.submit(i)));
    expect(results).to.deep.equal([10, 20, 30]);
    expect(batches).to.deep.equal([[1, 2, 3]]);
  });

  it('fails items that waited busyTimeoutMs with the busy error, and tries each item once at most per retry', async () => {
    let writes = 0;
    const batcher = createBatcher(
      async (items: number[]) => {
        writes += 1;
        throw new Busy(`locked (${items.length})`);
      },
      { maxBatch: 10, busyTimeoutMs: 60, isBusy },
    );
    const started = Date.now();
    const outcomes = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['rejected', 'rejected']);
    expect((outcomes[0] as PromiseRejectedResult).reason).to.be.instanceOf(Busy);
    expect(Date.now() - started).to.be.at.least(55);
    // Backoff from 5 ms, doubling: a handful of attempts, not one per millisecond or per item (a busy machine may
    // delay the timers so that only one retry fits).
    expect(writes).to.be.within(2, 8);
  });

  it('fails the whole batch at once on an error that no item can escape, without retrying items one by one', async () => {
    let writes = 0;
    const batcher = createBatcher(
      async (): Promise<number[]> => {
        writes += 1;
        throw new Gone('file removed');
      },
      { maxBatch: 10, failsAll: (err) => err instanceof Gone },
    );
    const outcomes = await Promise.allSettled([batcher.submit(1), batcher.submit(2), batcher.submit(3)]);
    expect(outcomes.every((o) => o.status === 'rejected')).to.equal(true);
    expect(writes).to.equal(1);
  });

  it('still isolates one bad item from its neighbours', async () => {
    const batcher = createBatcher(
      async (items: number[]) => {
        if (items.includes(2)) throw new Error('bad item');
        return items;
      },
      { maxBatch: 10 },
    );
    const outcomes = await Promise.allSettled([1, 2, 3].map((i) => batcher.submit(i)));
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
  });
});
