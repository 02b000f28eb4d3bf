import { expect } from 'chai';
import path from 'node:path';
import type { Store } from '../../../src/store';
import { makeTempDir } from '../../support/daemon';
import { openSqliteStore, sqliteHandle } from '../../support/sqlite';

/** A job that runs until told to finish: what another process sees meanwhile is the point. */
function heldJob(): { job: () => Promise<string>; finish: () => void; started: Promise<void> } {
  let finish!: () => void;
  let started!: () => void;
  const startedP = new Promise<void>((resolve) => (started = resolve));
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    job: async () => {
      started();
      await done;
      return 'done';
    },
    finish,
    started: startedP,
  };
}

describe('runExclusive on SQLite (one job at a time across processes on one file)', () => {
  let file: string;
  let a: Store;
  let b: Store;
  beforeEach(() => {
    file = path.join(makeTempDir(), 'jobs.db');
    a = openSqliteStore(file);
    b = openSqliteStore(file);
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  it('runs the job in one store while the other, on the same file, skips it; then the other may run it', async () => {
    const held = heldJob();
    const first = a.runExclusive('retention', held.job);
    await held.started;
    let ran = false;
    expect(
      await b.runExclusive('retention', async () => {
        ran = true;
        return 'b';
      }),
    ).to.equal(undefined);
    expect(ran).to.equal(false);
    // Another name is another lock.
    expect(await b.runExclusive('alert-windows', async () => 'other job')).to.equal('other job');
    held.finish();
    expect(await first).to.equal('done');
    expect(await b.runExclusive('retention', async () => 'b')).to.equal('b');
  });

  it('does not run a job twice at once in one process either', async () => {
    const held = heldJob();
    const first = a.runExclusive('retention', held.job);
    await held.started;
    expect(await a.runExclusive('retention', async () => 'again')).to.equal(undefined);
    held.finish();
    await first;
  });

  it('releases the lock when the job fails', async () => {
    const failed = await a
      .runExclusive('retention', async () => {
        throw new Error('job failed');
      })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(failed).to.be.instanceOf(Error).with.property('message', 'job failed');
    expect(await b.runExclusive('retention', async () => 'b')).to.equal('b');
  });

  it('takes over a lock whose holder stopped renewing it (a process that died)', async () => {
    const held = heldJob();
    const first = a.runExclusive('retention', held.job);
    await held.started;
    // The holder's lease runs out as if it had died: no renewal came in time.
    sqliteHandle(a)
      .prepare('UPDATE job_locks SET until_ms = ? WHERE name = ?')
      .run(Date.now() - 1, 'retention');
    expect(await b.runExclusive('retention', async () => 'taken over')).to.equal('taken over');
    held.finish();
    await first;
  });
});
