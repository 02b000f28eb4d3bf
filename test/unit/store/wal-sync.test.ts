import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { WalSync } from '../../../src/store/sqlite/wal-sync';
import { makeTempDir } from '../../support/daemon';

describe('store/sqlite WalSync (commits flushed off the event loop)', () => {
  let file: string;
  let sync: WalSync;
  beforeEach(() => {
    file = path.join(makeTempDir(), 'x.db-wal');
    fs.writeFileSync(file, 'frames');
    sync = new WalSync(file);
  });
  afterEach(() => sync.close());

  it('covers every commit made before a flush began with that one flush: 50 in one turn cost 2, not 50', async () => {
    await Promise.all(Array.from({ length: 50 }, () => sync.durable()));
    // The first starts a flush at once; the other 49, asked while it ran, share the next.
    expect(sync.flushes).to.equal(2);
  });

  it('never counts a flush that began before the commit: one asked during a flush waits for the next', async () => {
    const first = sync.durable();
    let secondDone = false;
    const second = sync.durable().then(() => {
      secondDone = true;
    });
    await first;
    // The first flush began before the second commit was asked about: it cannot cover it.
    expect(sync.flushes).to.equal(1);
    expect(secondDone).to.equal(false);
    await second;
    expect(sync.flushes).to.equal(2);
  });

  it('fails for good once a flush fails: a later flush could succeed without the lost pages ever reaching disk', async () => {
    const broken = new WalSync(path.join(makeTempDir(), 'missing.db-wal'));
    const first = await broken.durable().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(first).to.be.instanceOf(Error);
    expect(broken.failed).to.equal(first);
    const again = await broken.durable().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(again).to.equal(first);
  });
});
