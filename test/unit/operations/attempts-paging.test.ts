import { expect } from 'chai';
import { describeAttemptCount, numberAttempts } from '../../../src/operations/attempts';
import { readPage } from '../../../src/operations/paging';
import type { AttemptView } from '../../../src/operations/views';

const attempt = (n: number, outcome = 'retry'): AttemptView => ({
  attempt: n,
  startedAt: '2026-11-27T01:00:00.000Z',
  durationMs: 5,
  outcome,
  status: 503,
  error: null,
  response: null,
});

describe('operations: attempts as every front shows them', () => {
  it('numbers the log through replays, each replay starting a round', () => {
    const log = [attempt(1), attempt(2, 'dead'), attempt(1, 'dead'), attempt(1), attempt(2, 'delivered')];
    expect(numberAttempts(log).map((a) => [a.number, a.round])).to.deep.equal([
      [1, 1],
      [2, 1],
      [3, 2],
      [4, 3],
      [5, 3],
    ]);
  });

  it('counts every attempt, and those since the last replay once there was one', () => {
    expect(describeAttemptCount({ attempts: 0, attemptLog: [] })).to.equal('0 attempts');
    expect(describeAttemptCount({ attempts: 1, attemptLog: [attempt(1)] })).to.equal('1 attempt');
    expect(describeAttemptCount({ attempts: 2, attemptLog: [attempt(1), attempt(2)] })).to.equal('2 attempts');
    expect(describeAttemptCount({ attempts: 1, attemptLog: [attempt(1, 'dead'), attempt(1)] })).to.equal(
      '2 attempts, 1 since it was last replayed',
    );
  });
});

describe('operations: paging', () => {
  const rows = Array.from({ length: 5 }, (_, i) => ({ id: `evt_${5 - i}` }));

  it('asks for one row more than a page and shows it only as the next cursor', async () => {
    let asked = 0;
    const page = await readPage(3, (n) => {
      asked = n;
      return Promise.resolve(rows.slice(0, n));
    });
    expect(asked).to.equal(4);
    expect(page).to.deep.equal({ items: rows.slice(0, 3), next: 'evt_3' });
  });

  it('has no next cursor on the last page', async () => {
    const page = await readPage(5, (n) => Promise.resolve(rows.slice(0, n)));
    expect(page).to.deep.equal({ items: rows, next: undefined });
  });
});
