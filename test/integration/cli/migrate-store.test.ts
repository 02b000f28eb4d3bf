import { expect } from 'chai';
import path from 'node:path';
import { dedupRules } from '../../../src/ingest/dedup';
import { makeTempDir, startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { readCopiedTables } from '../../support/copied-tables';
import { openSqliteFile } from '../../support/sqlite';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';
import { getRefusedUrl, startReceiver, type Receiver } from '../../support/receiver';
import { SAMPLE_AUTH, buildCallback, postCallback } from '../../support/skypay';
import { ALL, withStore } from '../../support/store';
import { createLogger } from '../../../src/log';
import {
  copyStore,
  openPostgresMigrationTarget,
  openSqliteMigrationSource,
  openStore,
  type MigrationTarget,
  type Store,
} from '../../../src/store';
import type { CopyProgress } from '../../../src/store/migration';
import type { NewReconciliation } from '../../../src/payouts/types';
import { runCli } from './run-cli';

const SECRET = `whsec_${Buffer.from('migrate-store-test-secret-0123456').toString('base64')}`;

/** Everything the admin API and CLI show, read through one store. */
async function snapshot(store: Store) {
  const events = await store.listEvents({ limit: ALL });
  return {
    events,
    details: await Promise.all(events.map((e) => store.getEvent(e.id))),
    deliveries: await store.listDeliveries({ limit: ALL }),
    rejections: await store.listRejections({ limit: ALL }),
    silences: await store.listSilences({ limit: ALL }),
    payouts: await store.listPayouts({ limit: ALL }),
    timelines: await Promise.all(
      (await store.listPayouts({ limit: ALL })).map((p) => store.getPayouts(p.controlNumber, p.partner)),
    ),
    // Kept beside the rows as they change: the copy keeps them too.
    payoutsByState: await store.countPayoutsByState(),
    openPayouts: await store.countPayouts({ open: true }),
    destinations: await store.readDestinationActivity(),
  };
}

function openPostgres(url: string): Promise<Store> {
  return openStore({ path: 'unused.db', url, rules: dedupRules }, createLogger({ level: 'silent' }));
}

describePostgres(
  'skyrelay migrate-store: SQLite to PostgreSQL (real daemon, real receiver, real PostgreSQL)',
  function () {
    this.timeout(60_000);
    let receiver: Receiver;
    let sqlite: TestDaemon;
    let db: TestDatabase;
    let first: Record<string, unknown>;

    before(async () => {
      receiver = await startReceiver();
      sqlite = await startTestDaemon({
        destinations: {
          ledger: { type: 'webhook', url: `${receiver.url}/hooks`, secret: SECRET },
          broken: { type: 'webhook', url: await getRefusedUrl(), secret: SECRET },
        },
        rules: [{ name: 'all', to: ['ledger', 'broken'] }],
        delivery: { maxAttempts: 1, pollIntervalMs: 50 },
      });
      // Three events, the first also with a conflicting copy; each delivered to ledger and dead at broken.
      first = buildCallback({ payType: '4', failDescription: 'Invalid account', referenceNumber: 'REF-1' });
      for (const body of [first, { ...first, referenceNumber: 'REF-2' }, buildCallback(), buildCallback()]) {
        expect((await postCallback(sqlite.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
      }
      // A silence (matching none of them), with its audit.
      await withStore(sqlite.dbPath, async (s) => {
        const made = await s.createSilence({
          id: 'sil_migrated',
          matchers: { controlNumber: 'NONE' },
          destinations: ['ledger'],
          startsAtMs: Date.now(),
          endsAtMs: Date.now() + 3_600_000,
          createdBy: 'alice',
          createdAtMs: Date.now(),
          comment: 'copied too',
          createdVia: 'admin token 0a1b2c3d',
          createdFrom: '192.0.2.7',
        });
        await s.expireSilence(made.id, 'bob', Date.now(), { via: 'cli as OS user bob', from: null });
        // What SkyPay's status query said of the first payout, twice the same then once more.
        const [payout] = await s.listPayouts({ limit: 1 });
        const result: Omit<NewReconciliation, 'checkedMs'> = {
          partner: payout?.partner ?? '',
          controlNumber: payout?.controlNumber ?? '',
          status: 2,
          statusDesc: 'Uploaded',
          outcome: 'open',
          detail: 'still open',
          eventId: null,
        };
        const t0 = Date.now();
        await s.recordReconciliations([
          { ...result, checkedMs: t0 },
          { ...result, checkedMs: t0 + 1 },
        ]);
        await s.recordReconciliations([
          { ...result, checkedMs: t0 + 2, status: 10, statusDesc: 'Inquiry Success', outcome: 'record' },
        ]);
      });
      // Two rejections.
      await postCallback(sqlite.callbackUrl, buildCallback({ authentication: 'not-the-key' }));
      await postCallback(sqlite.callbackUrl, { nonsense: true });
      await waitUntil(async () => {
        const all = await withStore(sqlite.dbPath, (s) => s.listDeliveries({ limit: ALL }));
        return all.length === 6 && all.every((d) => d.state === 'delivered' || d.state === 'dead');
      }, 'every delivery to be delivered or dead');
      await sqlite.stop();
      db = await createTestDatabase();
    });

    after(async () => {
      await db?.drop();
      await receiver?.close();
    });

    it('copies everything; PostgreSQL then answers as SQLite did and dedups a replayed callback', async () => {
      const run = await runCli(['migrate-store', '--to', db.url, '--batch-size', '2'], {
        store: { path: sqlite.dbPath },
      });
      expect(run.stderr).to.match(/^migrate-store: events 3\/3 \(3 new this run\)$/m);
      expect(run.stderr).to.match(/^migrate-store: deliveries 6\/6 \(6 new this run\)$/m);
      expect(run.stderr).not.to.contain(db.url);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(
        // destination_states: the breaker of "broken", which counted its failures.
        /^copied \d+ rows from .*: 3 events, 6 deliveries, 6 attempts, 3 callback_keys, 1 callback_copies, \d+ callback_tally, 2 rejections, 1 silences, 0 event_silences, 0 group_members, 0 group_windows, 3 payouts, 2 payout_reconciliations, 0 alert_windows, 0 destination_slots, 1 destination_states, \d+ metric_series, \d+ callback_minutes, 0 ui_sessions_ended, 0 ledger_days, 0 payout_order$/m,
      );

      const before = await withStore(sqlite.dbPath, snapshot);
      expect(before.deliveries.map((d) => d.state).sort()).to.deep.equal([
        'dead',
        'dead',
        'dead',
        'delivered',
        'delivered',
        'delivered',
      ]);
      expect(before.details.find((d) => d?.conflicts.length)?.conflicts).to.have.length(1);
      expect(await readCopiedTables({ url: db.url })).to.deep.equal(await readCopiedTables(sqlite.dbPath));
      const pg = await openPostgres(db.url);
      try {
        expect(await snapshot(pg)).to.deep.equal(before);
      } finally {
        await pg.close();
      }

      // A daemon on PostgreSQL knows the first callback: its replay is a duplicate, not a new event.
      const daemon = await startTestDaemon({ store: { url: db.url } });
      try {
        const reply = await postCallback(daemon.callbackUrl, first);
        expect(reply.json?.['responseCode']).to.equal('1000');
        const events = await daemon.daemon.store.listEvents({ limit: ALL });
        expect(events).to.have.length(3);
        const again = events.find((e) => e.controlNumber === first['controlNumber']);
        expect(again?.duplicates).to.equal(1);
        expect(await daemon.daemon.store.listDeliveries({ limit: ALL })).to.have.length(6);
      } finally {
        await daemon.stop();
      }
    });

    it('a second run copies nothing new', async () => {
      const run = await runCli(['migrate-store', '--to', db.url], { store: { path: sqlite.dbPath } });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/^copied 0 rows from /m);
      expect(run.stderr).to.match(/^migrate-store: events 3\/3 \(0 new this run\)$/m);
    });

    it('refuses a database that holds data it did not copy, naming the problem', async () => {
      const other = await createTestDatabase();
      try {
        const daemon = await startTestDaemon({ store: { url: other.url } });
        await postCallback(daemon.callbackUrl, buildCallback());
        await daemon.stop();
        const run = await runCli(['migrate-store', '--to', other.url], { store: { path: sqlite.dbPath } });
        expect(run.code).to.equal(1);
        expect(run.stderr).to.match(/already holds events that migrate-store did not copy/);
        expect(run.stderr).not.to.contain(SAMPLE_AUTH);
      } finally {
        await other.drop();
      }
    });

    it('continues an interrupted copy where it stopped, never twice', async () => {
      const fresh = await createTestDatabase();
      try {
        // The connection to PostgreSQL fails after the first page of deliveries committed.
        const real = await openPostgresMigrationTarget(fresh.url);
        let pages = 0;
        const failing: MigrationTarget = {
          readProgress: () => real.readProgress(),
          importRows: (table, rows, lastKey) => {
            if (table === 'deliveries' && ++pages > 1) return Promise.reject(new Error('connection lost'));
            return real.importRows(table, rows, lastKey);
          },
          close: () => real.close(),
        };
        const source = openSqliteMigrationSource(sqlite.dbPath);
        try {
          await copyStore(source, failing, { batchSize: 2, writerStaleAfterMs: 15_000 }).then(
            () => expect.fail('the copy should have stopped'),
            (err: Error) => expect(err.message).to.equal('connection lost'),
          );
        } finally {
          await failing.close();
        }

        const target = await openPostgresMigrationTarget(fresh.url);
        const lines: CopyProgress[] = [];
        try {
          const inserted = await copyStore(source, target, {
            batchSize: 2,
            writerStaleAfterMs: 15_000,
            onProgress: (p) => lines.push(p),
          });
          const { metric_series: totals, ...rest } = Object.fromEntries(inserted);
          expect(totals).to.be.above(0);
          expect(rest).to.deep.equal({
            events: 0,
            deliveries: 4,
            attempts: 6,
            callback_keys: 3,
            callback_copies: 1,
            callback_tally: 2,
            rejections: 2,
            silences: 1,
            event_silences: 0,
            group_members: 0,
            group_windows: 0,
            payouts: 3,
            payout_reconciliations: 2,
            alert_windows: 0,
            destination_slots: 0,
            destination_states: 1,
            callback_minutes: 0,
            ui_sessions_ended: 0,
            ledger_days: 0,
            payout_order: 0,
          });
          // Counted from the page already there, not from zero.
          expect(lines.filter((l) => l.table === 'deliveries').map((l) => l.done)).to.deep.equal([4, 6]);
        } finally {
          await target.close();
          await source.close();
        }
        const pg = await openPostgres(fresh.url);
        try {
          expect(await snapshot(pg)).to.deep.equal(await withStore(sqlite.dbPath, snapshot));
        } finally {
          await pg.close();
        }
      } finally {
        await fresh.drop();
      }
    });

    /** A copy of the stopped deployment's file to spoil, the original left for the other tests. */
    function copyOfSource(): string {
      const copy = path.join(makeTempDir(), 'copy.db');
      const db = openSqliteFile(sqlite.dbPath);
      try {
        db.prepare('VACUUM INTO ?').run(copy);
      } finally {
        db.close();
      }
      return copy;
    }

    it('refuses to start while a daemon still runs on the SQLite file, naming it', async () => {
      const target = await createTestDatabase();
      const running = await startTestDaemon({}, { dbPath: copyOfSource() });
      try {
        const store = running.daemon.store;
        await waitUntil(
          async () => (await store.readMetricProcesses(Date.now() - 15_000)).length === 1,
          'the daemon to publish its metrics',
        );
        const run = await runCli(['migrate-store', '--to', target.url], { store: { path: running.dbPath } });
        expect(run.code).to.equal(1);
        expect(run.stderr).to.match(
          /a daemon is still using the SQLite file: \S+ \(pid \d+, last seen \d+ s ago\); stop every daemon on it first/,
        );
        expect(run.stdout).to.equal('');
        await running.stop();
        // Stopped, it says so (its row is gone): the same command copies.
        const again = await runCli(['migrate-store', '--to', target.url], { store: { path: running.dbPath } });
        expect(again.code, again.stderr).to.equal(0);
        expect(again.stdout).to.match(/: 3 events, 6 deliveries, /);
      } finally {
        await running.stop();
        await target.drop();
      }
    });

    it('refuses a file holding a table or column it does not know, naming each, before copying anything', async () => {
      const target = await createTestDatabase();
      const file = copyOfSource();
      const db = openSqliteFile(file);
      try {
        db.exec('CREATE TABLE local_notes (note TEXT); ALTER TABLE events ADD COLUMN ticket TEXT');
        const run = await runCli(['migrate-store', '--to', target.url], { store: { path: file } });
        expect(run.code).to.equal(1);
        expect(run.stderr).to.match(
          /^skyrelay: migrate-store does not know how to copy column events\.ticket, table local_notes: nothing was copied/m,
        );
        expect(run.stderr).not.to.match(/^migrate-store: events/m);

        db.exec('DROP TABLE local_notes; ALTER TABLE events DROP COLUMN ticket');
        const again = await runCli(['migrate-store', '--to', target.url], { store: { path: file } });
        expect(again.code, again.stderr).to.equal(0);
        expect(await readCopiedTables({ url: target.url })).to.deep.equal(await readCopiedTables(file));
      } finally {
        db.close();
        await target.drop();
      }
    });

    it('stops at rows PostgreSQL will not take, naming each; once they are fixed the same command continues', async () => {
      const target = await createTestDatabase();
      const file = copyOfSource();
      const db = openSqliteFile(file);
      try {
        // What SQLite's loose typing lets a hand edit leave: text in a number column, a number beyond integer.
        const [first, second] = db.prepare('SELECT id, status FROM rejections ORDER BY id').all() as {
          id: string;
          status: number;
        }[];
        db.prepare("UPDATE rejections SET status = 'teapot' WHERE id = ?").run(first?.id);
        db.prepare('UPDATE rejections SET status = 3000000000 WHERE id = ?').run(second?.id);
        const run = await runCli(['migrate-store', '--to', target.url], { store: { path: file } });
        expect(run.code).to.equal(1);
        expect(run.stderr).to.contain('skyrelay: PostgreSQL refused 2 rows of rejections; the copy stopped there');
        expect(run.stderr).to.contain(`  id=${first?.id}: invalid input syntax for type integer: "teapot"`);
        expect(run.stderr).to.contain(`  id=${second?.id}: value "3000000000" is out of range for type integer`);
        expect(run.stderr).to.match(/fix or delete them in the SQLite file, then run migrate-store again/);
        expect(run.stderr).not.to.contain(SAMPLE_AUTH);
        // The tables before it were copied; of rejections, nothing.
        expect(run.stderr).to.match(/^migrate-store: callback_copies 1\/1 \(1 new this run\)$/m);
        expect(run.stderr).not.to.match(/^migrate-store: rejections/m);

        db.prepare('UPDATE rejections SET status = ? WHERE id = ?').run(first?.status, first?.id);
        db.prepare('UPDATE rejections SET status = ? WHERE id = ?').run(second?.status, second?.id);
        const again = await runCli(['migrate-store', '--to', target.url], { store: { path: file } });
        expect(again.code, again.stderr).to.equal(0);
        expect(again.stdout).to.match(
          /: 0 events, 0 deliveries, 0 attempts, 0 callback_keys, 0 callback_copies, \d+ callback_tally, 2 rejections, /,
        );
        expect(await readCopiedTables({ url: target.url })).to.deep.equal(await readCopiedTables(file));
      } finally {
        db.close();
        await target.drop();
      }
    });
  },
);

describe('skyrelay migrate-store: usage', function () {
  this.timeout(20_000);

  it('refuses a --to that is not a postgres:// URL with exit 2, without echoing it', async () => {
    const run = await runCli(['migrate-store', '--to', 'mysql://user:s3cret@host/db'], {});
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/--to must be a postgres:\/\/ URL/);
    expect(run.stderr).not.to.contain('s3cret');
  });

  it('fails with exit 1 naming store.path when there is no SQLite file to copy', async () => {
    const run = await runCli(['migrate-store', '--to', 'postgres://127.0.0.1:1/none'], {
      store: { path: '/nonexistent/skyrelay.db' },
    });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/no database at \/nonexistent\/skyrelay\.db: point store\.path/);
  });
});
