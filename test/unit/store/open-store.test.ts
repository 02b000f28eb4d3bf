import { expect } from 'chai';
import { dedupRules } from '../../../src/ingest/dedup';
import path from 'node:path';
import { createLogger } from '../../../src/log';
import { openStore } from '../../../src/store';
import { StoreNotFoundError, StoreUnavailableError } from '../../../src/store/errors';
import { makeTempDir } from '../../support/daemon';

const logger = createLogger({ level: 'silent' });

describe('openStore (the implementation picked from config)', () => {
  it('opens the SQLite file at store.path when no store.url is set', async () => {
    const store = await openStore({ rules: dedupRules, path: path.join(makeTempDir(), 'open.db') }, logger);
    try {
      expect(store.kind).to.equal('sqlite');
      await store.ping();
    } finally {
      await store.close();
    }
  });

  it('opens PostgreSQL for store.url, and an unreachable server fails with StoreUnavailableError, never repeating the url (it may hold a password)', async () => {
    const err = await openStore(
      {
        rules: dedupRules,
        path: path.join(makeTempDir(), 'unused.db'),
        url: 'postgres://relay:s3cret-pw@127.0.0.1:1/skyrelay',
      },
      logger,
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(StoreUnavailableError);
    expect(String((err as Error).message)).not.to.contain('s3cret-pw');
  });

  it('does not create an empty database when asked to open an existing one', async () => {
    const file = path.join(makeTempDir(), 'missing.db');
    const err = await openStore({ rules: dedupRules, path: file, mustExist: true }, logger).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(StoreNotFoundError);
  });

  it("closes once: a second close() returns the first one's promise", async () => {
    const store = await openStore({ rules: dedupRules, path: path.join(makeTempDir(), 'twice.db') }, logger);
    const first = store.close();
    expect(store.close()).to.equal(first);
    await first;
  });
});
