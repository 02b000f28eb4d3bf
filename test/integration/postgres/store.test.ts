/**
 * What only the PostgreSQL store does, against a real server: LISTEN/NOTIFY
 * wakes other instances, and an outage (the server stopped under the store)
 * gives StoreUnavailableErrors and fast failing pings, then recovery on the
 * same Store instance, without re-creating it, once the server is back.
 */
import { expect } from 'chai';
import { Client } from 'pg';
import { StoreBusyError, StoreUnavailableError } from '../../../src/store/errors';
import type { Store } from '../../../src/store';
import { openPostgresStore } from '../../support/store';
import { buildPayoutEvent } from '../../support/fixtures';
import {
  createTestDatabase,
  describePostgres,
  holdTableLock,
  startPostgres,
  stopPostgres,
  testDatabaseUrl,
  type TestDatabase,
} from '../../support/postgres';
import { waitUntil } from '../../support/daemon';
import { Recorder } from '../../support/wait';

let serial = 0;
function payout() {
  serial += 1;
  return buildPayoutEvent({
    id: `evt_pg_${String(serial).padStart(6, '0')}`,
    controlNumber: `SKPG${String(serial).padStart(8, '0')}`,
    receivedAt: new Date().toISOString(),
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describePostgres('PostgreSQL store: notifications', function () {
  let db: TestDatabase;
  let a: Store;
  let b: Store;

  beforeEach(async () => {
    db = await createTestDatabase();
    [a, b] = await Promise.all([openPostgresStore({ url: db.url }), openPostgresStore({ url: db.url })]);
  });

  afterEach(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('wakes every instance listening when another stores an event with deliveries or releases a lease', async () => {
    const woken = new Recorder<string>('new work');
    const unsubscribe = a.onNewWork(() => woken.add('a'));
    // The listener looks once as soon as it listens, for work written while nobody did.
    await woken.waitFor(1);

    await b.saveEvent(payout(), [{ id: 'dlv_pg_notify', destination: 'ledger', rules: ['r'] }]);
    await woken.waitFor(2);

    const [claimed] = await b.claimDeliveries({
      owner: 'b',
      now: Date.now(),
      leaseMs: 30_000,
      maxInFlight: () => 4,
      max: 1,
    });
    expect(claimed?.id).to.equal('dlv_pg_notify');
    await b.releaseLeases('b', ['dlv_pg_notify']);
    await woken.waitFor(3);

    unsubscribe();
    await b.saveEvent(payout(), []);
    await b.saveEvent(payout(), [{ id: 'dlv_pg_unheard', destination: 'ledger', rules: ['r'] }]);
    await b.replayDeliveries(['dlv_pg_unheard']);
    expect(woken.items).to.have.length(3);
  });
});

describePostgres('PostgreSQL store: start-up', function () {
  let db: TestDatabase;
  const stores: Store[] = [];

  before(async () => {
    db = await createTestDatabase();
  });

  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db?.drop();
  });

  it('migrates once when several instances start at the same time on an empty database', async () => {
    // Without the advisory lock, concurrent CREATE TABLEs of one schema fail (a duplicate type or relation).
    stores.push(
      ...(await Promise.all(Array.from({ length: 4 }, () => openPostgresStore({ url: db.url, poolSize: 2 })))),
    );
    const outcomes = await Promise.all(stores.map((s) => s.saveEvent(payout(), [])));
    expect(outcomes.every((o) => !o.duplicate)).to.equal(true);
    expect(await stores[0]?.listEvents({ limit: 10 })).to.have.length(4);
  });

  it('fails to open with StoreUnavailableError when nothing listens at the URL', async () => {
    const url = new URL(db.url);
    url.port = '1';
    const err = await rejectionOf(openPostgresStore({ url: url.toString(), connectTimeoutMs: 1_000 }));
    expect(err).to.be.instanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).code).to.equal('ECONNREFUSED');
  });
});

describePostgres('PostgreSQL store: a lock held by another session', function () {
  let db: TestDatabase;
  let store: Store;

  before(async () => {
    db = await createTestDatabase();
    store = await openPostgresStore({ url: db.url, busyTimeoutMs: 300 });
  });

  after(async () => {
    await store?.close();
    await db?.drop();
  });

  it('fails a write with StoreBusyError after busyTimeoutMs, while ping still answers, and writes once it is let go', async () => {
    const lock = await holdTableLock(db.url, 'events');
    try {
      const started = Date.now();
      // A group commit of several: all fail together after one wait, not one wait per event.
      const errors = await Promise.all(
        Array.from({ length: 8 }, () => payout()).map((p) => rejectionOf(store.saveEvent(p, []))),
      );
      const err = errors[0];
      expect(errors.every((e) => e instanceof StoreBusyError)).to.equal(true);
      expect((err as StoreBusyError).code).to.equal('55P03');
      // One wait for the batch; one per event would take 300 ms + 8 × 300 ms.
      expect(Date.now() - started).to.be.within(250, 2_000);
      expect(store.lastWriteFailure).to.equal('55P03');
      await store.ping();
    } finally {
      await lock.release();
    }
    expect((await store.saveEvent(payout(), [])).duplicate).to.equal(false);
    expect(store.lastWriteFailure).to.equal(undefined);
  });
});

describePostgres('PostgreSQL store: its connection ended in the middle of a transaction', function () {
  let db: TestDatabase;
  let store: Store;
  let admin: Client;

  before(async () => {
    db = await createTestDatabase();
    store = await openPostgresStore({ url: db.url });
    admin = new Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
  });

  after(async () => {
    await admin?.end();
    await store?.close();
    await db?.drop();
  });

  it('fails that write with StoreUnavailableError, nothing else (no unheard error ends the process), and writes again', async () => {
    const lock = await holdTableLock(db.url, 'events');
    try {
      // The write waits for the lock inside its transaction, on a connection the pool has handed out.
      const write = rejectionOf(store.saveEvent(payout(), []));
      const waiting = async (): Promise<number[]> => {
        const { rows } = await admin.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity
            WHERE datname = $1 AND application_name = 'skyrelay' AND wait_event_type = 'Lock'`,
          [new URL(db.url).pathname.slice(1)],
        );
        return rows.map((r) => r.pid);
      };
      await waitUntil(async () => (await waiting()).length > 0, 'the write to wait for the lock');
      for (const pid of await waiting()) await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      expect(await write).to.be.instanceOf(StoreUnavailableError);
    } finally {
      await lock.release();
    }
    expect((await store.saveEvent(payout(), [])).duplicate).to.equal(false);
  });
});

describePostgres(
  'PostgreSQL store: the server stopped and started again',
  function () {
    let db: TestDatabase;
    let store: Store;
    let other: Store;
    let down = false;

    before(async () => {
      db = await createTestDatabase();
      store = await openPostgresStore({ url: db.url, connectTimeoutMs: 2_000, pingTimeoutMs: 500 });
      other = await openPostgresStore({ url: db.url });
    });

    after(async () => {
      if (down) await startPostgres();
      await store?.close();
      await other?.close();
      await db?.drop();
    });

    it('rejects writes with StoreUnavailableError while it is down, and works again on the same Store after', async () => {
      const before = payout();
      expect((await store.saveEvent(before, [])).duplicate).to.equal(false);
      const woken = new Recorder<number>('new work');
      store.onNewWork(() => woken.add(Date.now()));
      await woken.waitFor(1);

      await stopPostgres();
      down = true;

      const during = payout();
      const saved = await rejectionOf(store.saveEvent(during, [{ id: 'dlv_pg_lost', destination: 'x', rules: [] }]));
      expect(saved, 'saveEvent while down').to.be.instanceOf(StoreUnavailableError);
      expect(store.lastWriteFailure, 'why, for /readyz').to.be.a('string').and.not.equal('');
      expect((saved as StoreUnavailableError).message).to.not.match(/ECONN|57P01|postgres/i);
      for (const [what, call] of [
        ['saveRejection', () => store.saveRejection(rejection())],
        [
          'claimDeliveries',
          () => store.claimDeliveries({ owner: 'o', now: Date.now(), leaseMs: 1, maxInFlight: () => 1, max: 1 }),
        ],
        ['listEvents', () => store.listEvents({ limit: 1 })],
        ['probeWrite', () => store.probeWrite()],
        ['runExclusive', () => store.runExclusive('job', () => Promise.resolve(1))],
      ] as const) {
        expect(await rejectionOf(call()), what).to.be.instanceOf(StoreUnavailableError);
      }
      const started = Date.now();
      expect(await rejectionOf(store.ping()), 'ping').to.be.instanceOf(StoreUnavailableError);
      expect(Date.now() - started, 'ping fails fast').to.be.below(1_500);

      await startPostgres();
      down = false;

      await store.ping();
      await store.probeWrite();
      expect(store.lastWriteFailure).to.equal(undefined);
      expect((await store.saveEvent(during, [])).duplicate, 'nothing of the failed write was kept').to.equal(false);
      expect((await store.saveEvent({ ...before, id: 'evt_pg_again' }, [])).duplicate).to.equal(true);

      // The LISTEN connection came back too: another instance's new work wakes this one.
      const heard = woken.items.length;
      await other.saveEvent(payout(), [{ id: 'dlv_pg_after', destination: 'x', rules: [] }]);
      await woken.waitFor(heard + 1, 15_000);
    });
  },
  { stopsServer: true },
);

function rejection() {
  serial += 1;
  return {
    id: `rej_pg_${String(serial).padStart(6, '0')}`,
    receivedAt: new Date(),
    remoteAddress: '203.0.113.7',
    method: 'POST',
    path: '/callbacks/skypay',
    contentType: 'application/json',
    status: 401,
    reason: 'unauthenticated',
    description: 'wrong key',
    partner: undefined,
    body: undefined,
  };
}
