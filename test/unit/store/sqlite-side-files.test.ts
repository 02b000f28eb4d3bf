import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseLostError } from '../../../src/store/errors';
import { DATABASE_WAL_LOST_REASON } from '../../../src/store/sqlite/driver';
import { makeTempDir } from '../../support/daemon';
import { buildPayoutEvent } from '../../support/fixtures';
import { openSqliteFile, openSqliteStore } from '../../support/sqlite';

let serial = 0;
const payout = () =>
  buildPayoutEvent({ id: `evt_side_${++serial}`, controlNumber: `SKSIDE${String(serial).padStart(8, '0')}` });

/**
 * The SQLite store checks its -wal and -shm files as it checks the database file. These are the cases a loaded
 * daemon cannot show on its own: what must not count as a loss, and what a crash right after one leaves behind.
 */
describe('SQLite store: the -wal and -shm beside the database file', () => {
  it('is not lost when another connection (the CLI beside the daemon) opens, reads and closes the file', async () => {
    const file = path.join(makeTempDir(), 'side.db');
    const store = openSqliteStore(file);
    try {
      await store.saveEvent(payout(), []);
      const wal = fs.statSync(`${file}-wal`).ino;
      for (let i = 0; i < 3; i++) {
        const cli = openSqliteFile(file, { readonly: true });
        cli.prepare('SELECT count(*) FROM events').get();
        cli.close();
      }
      expect(fs.statSync(`${file}-wal`).ino, 'the -wal is the same file').to.equal(wal);
      expect(store.lostReason).to.equal(undefined);
      await store.ping();
      await store.saveEvent(payout(), []);
    } finally {
      await store.close();
    }
  });

  it('after the -wal is removed: refuses the next event, and the database file alone holds every event saved', async () => {
    const dir = makeTempDir();
    const file = path.join(dir, 'side.db');
    const store = openSqliteStore(file);
    const saved = [payout(), payout(), payout()];
    try {
      for (const event of saved) await store.saveEvent(event, []);
      fs.rmSync(`${file}-wal`);
      const refused = await store.saveEvent(payout(), []).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).to.be.instanceOf(DatabaseLostError);
      expect(store.lostReason).to.equal(DATABASE_WAL_LOST_REASON);
      // What a SIGKILL now would leave: the database file, without the nameless -wal the handle still writes to.
      fs.copyFileSync(file, path.join(dir, 'after-crash.db'));
    } finally {
      await store.close();
    }
    const restarted = openSqliteStore(path.join(dir, 'after-crash.db'));
    try {
      expect(restarted.lostReason, 'a fresh start on real files').to.equal(undefined);
      const found = await restarted.listEvents({ limit: 100 });
      expect(found.map((e) => e.id).sort()).to.deep.equal(saved.map((e) => e.id).sort());
      await restarted.saveEvent(payout(), []);
    } finally {
      await restarted.close();
    }
  });

  it('stays lost once a new -wal appears at the path (another process opened the folder)', async () => {
    const file = path.join(makeTempDir(), 'side.db');
    const store = openSqliteStore(file);
    try {
      await store.saveEvent(payout(), []);
      fs.rmSync(`${file}-wal`);
      fs.writeFileSync(`${file}-wal`, '');
      expect(store.lostReason).to.equal(DATABASE_WAL_LOST_REASON);
      await store.ping().then(
        () => expect.fail('ping succeeded on a lost -wal'),
        (err: unknown) => expect(err).to.be.instanceOf(DatabaseLostError),
      );
    } finally {
      await store.close();
    }
  });
});
