import { expect } from 'chai';
import path from 'node:path';
import type { Store } from '../../../src/store';
import { cutoffsFor, pruneAll } from '../../../src/retention/retention';
import { makeTempDir } from '../../support/daemon';
import { openSqliteStore, sqliteHandle, type SqliteHandle } from '../../support/sqlite';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');

function addEvent(db: SqliteHandle, id: string, ageDays: number, deliveryStates: string[]): void {
  const at = NOW - ageDays * DAY;
  db.prepare(`INSERT INTO events (id, source, type, body, received_ms) VALUES (?, 'skypay', 'payout', '{}', ?)`).run(
    id,
    at,
  );
  deliveryStates.forEach((state, i) => {
    const dlv = `${id}-d${i}`;
    db.prepare(
      `INSERT INTO deliveries (id, event_id, destination, rules, state, next_attempt_ms, created_ms, updated_ms)
      VALUES (?, ?, 'hook', '[]', ?, ?, ?, ?)`,
    ).run(dlv, id, state, at, at, at);
    db.prepare(
      `INSERT INTO attempts (delivery_id, attempt, started_ms, duration_ms, outcome) VALUES (?, 1, ?, 5, 'retry')`,
    ).run(dlv, at);
  });
}

function addRejection(db: SqliteHandle, id: string, ageDays: number): void {
  db.prepare(
    `INSERT INTO rejections (id, received_ms, method, path, status, reason, description)
    VALUES (?, ?, 'POST', '/x', 401, 'unauthenticated', 'wrong key')`,
  ).run(id, NOW - ageDays * DAY);
}

const eventIds = async (store: Store): Promise<string[]> =>
  (await store.listEvents({ limit: 100 })).map((e) => e.id).sort();
/** Deliveries and attempts left, counted on the events left (pruneAll's counts say what went). */
async function deliveriesLeft(store: Store): Promise<{ deliveries: number; attempts: number }> {
  const left = { deliveries: 0, attempts: 0 };
  for (const id of await eventIds(store)) {
    for (const d of (await store.getEvent(id))?.deliveries ?? []) {
      left.deliveries += 1;
      left.attempts += d.attemptLog.length;
    }
  }
  return left;
}

describe('retention', () => {
  let store: Store;
  let db: SqliteHandle;
  beforeEach(() => {
    store = openSqliteStore(path.join(makeTempDir(), 'r.db'));
    db = sqliteHandle(store);
  });
  afterEach(() => store.close());

  it('deletes old events with their finished deliveries and attempts, never one with a pending or in-flight delivery', async () => {
    addEvent(db, 'old-done', 100, ['delivered', 'dead']);
    addEvent(db, 'old-none', 100, []);
    addEvent(db, 'old-pending', 100, ['delivered', 'pending']);
    addEvent(db, 'old-inflight', 100, ['inflight']);
    addEvent(db, 'young', 10, ['delivered']);
    const n = await pruneAll(store, cutoffsFor(90, 30, NOW), { batchSize: 500 });
    expect(n).to.deep.equal({ events: 2, deliveries: 2, attempts: 2, rejections: 0, keys: 0 });
    expect(await eventIds(store)).to.deep.equal(['old-inflight', 'old-pending', 'young']);
    // Six of each were added and two deleted: the other four are all still with their events.
    expect(await deliveriesLeft(store)).to.deep.equal({ deliveries: 4, attempts: 4 });
  });

  it('keeps rejections for their own, shorter period', async () => {
    addRejection(db, 'rej-old', 31);
    addRejection(db, 'rej-young', 29);
    addEvent(db, 'event-40d', 40, []);
    const n = await pruneAll(store, cutoffsFor(90, 30, NOW), { batchSize: 500 });
    expect(n.rejections).to.equal(1);
    expect((await store.listRejections({ limit: 100 })).map((r) => r.id)).to.deep.equal(['rej-young']);
    expect(await eventIds(store)).to.deep.equal(['event-40d']);
  });

  it('works in batches of batchSize rows until nothing old is left, and counts first on a dry run', async () => {
    for (let i = 0; i < 7; i++) addEvent(db, `e${i}`, 100, ['delivered']);
    for (let i = 0; i < 5; i++) addRejection(db, `r${i}`, 40);
    const cut = cutoffsFor(90, 30, NOW);
    expect(await store.countPrunable(cut)).to.deep.equal({ events: 7, rejections: 5 });
    expect(await store.pruneBatch(cut, 3)).to.deep.equal({
      events: 3,
      deliveries: 3,
      attempts: 3,
      rejections: 3,
      keys: 0,
    });
    const rest = await pruneAll(store, cut, { batchSize: 3 });
    expect(rest).to.deep.equal({ events: 4, deliveries: 4, attempts: 4, rejections: 2, keys: 0 });
    expect(await eventIds(store)).to.deep.equal([]);
    expect(await store.listRejections({ limit: 100 })).to.deep.equal([]);
    expect(await store.countPrunable(cut)).to.deep.equal({ events: 0, rejections: 0 });
  });

  it('stops between batches when asked (the daemon is stopping)', async () => {
    for (let i = 0; i < 6; i++) addEvent(db, `e${i}`, 100, []);
    const n = await pruneAll(store, cutoffsFor(90, 30, NOW), { batchSize: 2, shouldStop: () => true });
    expect(n.events).to.equal(2);
  });
});

describe('retention of callback identities (dedup keys)', () => {
  let store: Store;
  let db: SqliteHandle;
  beforeEach(() => {
    store = openSqliteStore(path.join(makeTempDir(), 'k.db'));
    db = sqliteHandle(store);
  });
  afterEach(() => store.close());

  function addKey(controlNumber: string, ageDays: number, eventId: string): void {
    db.prepare(
      `INSERT INTO callback_keys (partner, control_number, pay_type, deal_time, event_id, received_ms)
      VALUES ('P', ?, 2, '2026-01-01 00:00:00', ?, ?)`,
    ).run(controlNumber, eventId, NOW - ageDays * DAY);
  }
  /** Which of the control numbers the tests use still have an identity. */
  const keys = async (): Promise<string[]> => {
    const kept: string[] = [];
    for (const cn of ['SK0000000000001', 'SK0000000000002', 'SK0000000000003']) {
      const found = await store.findCallbackIdentities(cn);
      kept.push(...found.map((k) => k.controlNumber));
    }
    return kept;
  };

  it('keeps every identity forever by default, even when its event goes', async () => {
    addEvent(db, 'old', 100, ['delivered']);
    addKey('SK0000000000001', 100, 'old');
    addKey('SK0000000000002', 5000, 'long-gone');
    const n = await pruneAll(store, cutoffsFor(90, 30, NOW), { batchSize: 500 });
    expect(n).to.include({ events: 1, keys: 0 });
    expect(await keys()).to.deep.equal(['SK0000000000001', 'SK0000000000002']);
  });

  it('with dedupRetentionDays, drops old identities whose event is gone, never one whose event is kept', async () => {
    addEvent(db, 'kept-pending', 400, ['pending']);
    addKey('SK0000000000001', 400, 'kept-pending');
    addKey('SK0000000000002', 400, 'gone');
    addKey('SK0000000000003', 300, 'gone-too');
    const n = await pruneAll(store, cutoffsFor(90, 30, NOW, 365), { batchSize: 500 });
    expect(n.keys).to.equal(1);
    expect(await keys()).to.deep.equal(['SK0000000000001', 'SK0000000000003']);
  });
});

describe('retention of conflicting copies', () => {
  let store: Store;
  let db: SqliteHandle;
  beforeEach(() => {
    store = openSqliteStore(path.join(makeTempDir(), 'c.db'));
    db = sqliteHandle(store);
  });
  afterEach(() => store.close());

  const addCopy = (id: string, eventId: string, ageDays: number): void => {
    db.prepare(`INSERT INTO callback_copies (id, event_id, received_ms, body, digest) VALUES (?, ?, ?, '{}', ?)`).run(
      id,
      eventId,
      NOW - ageDays * DAY,
      Buffer.from(id),
    );
  };

  it('drops copies with their event, and copies of an event already gone once they are old themselves', async () => {
    addEvent(db, 'old', 100, ['delivered']);
    addEvent(db, 'kept', 100, ['pending']);
    addCopy('cpy-of-old', 'old', 10);
    addCopy('cpy-of-kept', 'kept', 100);
    addCopy('cpy-orphan-old', 'gone', 100);
    addCopy('cpy-orphan-young', 'gone', 10);
    await pruneAll(store, cutoffsFor(90, 30, NOW), { batchSize: 500 });
    expect((await store.getEvent('kept'))?.conflicts.map((c) => c.id)).to.deep.equal(['cpy-of-kept']);
    // Copies whose event is gone show through no read (housekeeping, not a result): counted under the store.
    expect(db.prepare('SELECT id FROM callback_copies ORDER BY id').pluck().all()).to.deep.equal([
      'cpy-of-kept',
      'cpy-orphan-young',
    ]);
  });
});
