import { expect } from 'chai';
import { ReadLane } from '../../../src/store/read-lane';

/** A clock the test moves by hand, and rests that end when the test says. */
function fakeClock() {
  let now = 0;
  const rests: { ms: number; end: () => void }[] = [];
  return {
    rests,
    advance: (ms: number) => {
      now += ms;
    },
    clock: {
      now: () => now,
      // A rest ends when the test says, and the clock has moved on by its length.
      sleep: (ms: number) =>
        new Promise<void>((resolve) =>
          rests.push({
            ms,
            end: () => {
              now += ms;
              resolve();
            },
          }),
        ),
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ReadLane', () => {
  it('runs a lone read at once and rests after none', async () => {
    const t = fakeClock();
    const lane = new ReadLane(t.clock);
    const value = await lane.run(() => {
      t.advance(40);
      return Promise.resolve('rows');
    });
    expect(value).to.equal('rows');
    await settle();
    expect(t.rests).to.deep.equal([]);
    // And the next lone read starts at once too.
    expect(await lane.run(() => Promise.resolve(2))).to.equal(2);
  });

  it('runs queued reads one at a time; past its burst, rests as long as the last one took before the next', async () => {
    const t = fakeClock();
    const lane = new ReadLane(t.clock, 0);
    const started: string[] = [];
    let running = 0;
    let most = 0;
    const read = (name: string, ms: number) => async () => {
      started.push(name);
      running += 1;
      most = Math.max(most, running);
      await settle();
      t.advance(ms);
      running -= 1;
      return name;
    };
    const first = lane.run(read('first', 30));
    const second = lane.run(read('second', 10));
    const third = lane.run(read('third', 5));

    // The first read's answer does not wait for the rest that follows it.
    expect(await first).to.equal('first');
    await settle();
    expect(t.rests.map((r) => r.ms)).to.deep.equal([30]);
    expect(started).to.deep.equal(['first']);

    t.rests[0]?.end();
    expect(await second).to.equal('second');
    await settle();
    expect(t.rests.map((r) => r.ms)).to.deep.equal([30, 10]);
    expect(started).to.deep.equal(['first', 'second']);

    t.rests[1]?.end();
    expect(await third).to.equal('third');
    await settle();
    // Nobody waits after the third: no rest.
    expect(t.rests).to.have.length(2);
    expect(most).to.equal(1);
  });

  it('a failed read frees the lane for the next, after its rest', async () => {
    const t = fakeClock();
    const lane = new ReadLane(t.clock, 0);
    const failed = lane.run(() => {
      t.advance(20);
      return Promise.reject(new Error('gone'));
    });
    const next = lane.run(() => Promise.resolve('ok'));
    const why = await failed.then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(why).to.equal('gone');
    await settle();
    expect(t.rests.map((r) => r.ms)).to.deep.equal([20]);
    t.rests[0]?.end();
    expect(await next).to.equal('ok');
  });

  it('lets a burst of reads through back to back, then rests once it is spent; time outside reads earns it back', async () => {
    const t = fakeClock();
    const lane = new ReadLane(t.clock, 100);
    const read = () => {
      t.advance(30);
      return Promise.resolve();
    };
    const five = Array.from({ length: 5 }, () => lane.run(read));
    await Promise.all(five.slice(0, 4));
    await settle();
    // 4 × 30 ms against 100 ms: the fourth overdrew it by 20 ms, and a fifth was waiting.
    expect(t.rests.map((r) => r.ms)).to.deep.equal([20]);
    t.rests[0]?.end();
    await five[4];
    await settle();
    expect(t.rests).to.have.length(1);

    // A pause as long as the burst earns it all back: the next reads run without a rest.
    t.advance(200);
    await Promise.all([lane.run(read), lane.run(read), lane.run(read)]);
    await settle();
    expect(t.rests).to.have.length(1);
  });
});
