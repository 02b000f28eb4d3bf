import { expect } from 'chai';
import path from 'node:path';
import { createLogger } from '../../../src/log';
import { openStore } from '../../../src/store';
import { StoreNotAvailableError, StoreNotFoundError } from '../../../src/store/errors';
import { makeTempDir } from '../../support/daemon';

const logger = createLogger({ level: 'silent' });

describe('openStore (the implementation picked from config)', () => {
  it('opens the SQLite file at store.path when no store.url is set', async () => {
    const store = await openStore({ path: path.join(makeTempDir(), 'open.db') }, logger);
    try {
      expect(store.kind).to.equal('sqlite');
      await store.ping();
    } finally {
      await store.close();
    }
  });

  it('says clearly that PostgreSQL is not in this build, never repeating the url (it may hold a password)', async () => {
    const err = await openStore(
      { path: path.join(makeTempDir(), 'unused.db'), url: 'postgres://relay:s3cret-pw@db.internal/skyrelay' },
      logger,
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(StoreNotAvailableError);
    expect(String((err as Error).message)).to.contain('not available in this build');
    expect(String((err as Error).message)).not.to.contain('s3cret-pw');
  });

  it('does not create an empty database when asked to open an existing one', async () => {
    const file = path.join(makeTempDir(), 'missing.db');
    const err = await openStore({ path: file, mustExist: true }, logger).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(StoreNotFoundError);
  });

  it("closes once: a second close() returns the first one's promise", async () => {
    const store = await openStore({ path: path.join(makeTempDir(), 'twice.db') }, logger);
    const first = store.close();
    expect(store.close()).to.equal(first);
    await first;
  });
});
