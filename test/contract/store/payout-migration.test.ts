/**
 * Upgrading keeps each payout's history: the migration that adds payouts builds them from the events already
 * stored, on both stores. The database is taken back to the schema before that migration (its table dropped,
 * its version forgotten) after old-style events were stored, then opened again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Client } from 'pg';
import type { PayType, PayoutEvent } from '../../../src/event';
import { PAY_STATUSES } from '../../../src/event';
import { openPostgresStore } from '../../support/store';
import type { Store } from '../../../src/store/store';
import { buildPayoutEvent } from '../../support/fixtures';
import { createTestDatabase, describePostgres } from '../../support/postgres';
import { openSqliteFile, openSqliteStore } from '../../support/sqlite';

let serial = 0;
const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();

function status(controlNumber: string, payType: PayType, dealTime: string, minutesAgo: number): PayoutEvent {
  return buildPayoutEvent({
    id: `evt_${String(++serial).padStart(10, '0')}`,
    partner: 'ACME',
    controlNumber,
    payType,
    status: PAY_STATUSES[payType],
    dealTime,
    receivedAt: at(minutesAgo),
  });
}

/** Events as a release before payouts stored them: no transition, no payout row. */
async function storeOldEvents(store: Store): Promise<void> {
  const events = [
    status('SKM1', 1, '2026-11-27 10:00:00', 50),
    status('SKM1', 2, '2026-11-27 11:00:00', 40),
    status('SKM2', 1, '2026-11-27 10:00:00', 30),
    status('SKM2', 5, '2026-11-27 10:30:00', 20),
    // Out of order: the final status wins whatever came after it.
    status('SKM3', 3, '2026-11-27 12:00:00', 15),
    status('SKM3', 1, '2026-11-27 09:00:00', 10),
    // Two finals: the first received stays, counted as an anomaly.
    status('SKM4', 2, '2026-11-27 12:00:00', 9),
    status('SKM4', 4, '2026-11-27 12:30:00', 8),
  ];
  for (const e of events) await store.saveEvent(e, []);
}

async function expectBuilt(store: Store): Promise<void> {
  const rows = await store.listPayouts({ limit: 10 });
  const byCn = new Map(rows.map((p) => [p.controlNumber, p]));
  expect(byCn.get('SKM1')).to.include({ state: 'paid', lastDealTime: '2026-11-27 11:00:00', anomalies: 0 });
  expect(byCn.get('SKM2')).to.include({ state: 'amendedSuccess', anomalies: 0 });
  expect(byCn.get('SKM3')).to.include({ state: 'cancelled', lastDealTime: '2026-11-27 12:00:00' });
  expect(byCn.get('SKM4')).to.include({ state: 'paid', anomalies: 1 });
  const m1 = byCn.get('SKM1');
  expect(Date.parse(m1?.lastSeenAt ?? '') - Date.parse(m1?.firstSeenAt ?? '')).to.be.closeTo(10 * 60_000, 1000);
  // In its state since the status that put it there.
  expect(Date.parse(byCn.get('SKM3')?.stateSince ?? '')).to.be.lessThan(Date.parse(byCn.get('SKM3')?.lastSeenAt ?? ''));
  const [detail] = await store.getPayouts('SKM1');
  expect(detail?.events.map((e) => (e.event as PayoutEvent).status)).to.deep.equal(['upload', 'paid']);
  expect(await store.countPayoutsByState()).to.deep.equal({ paid: 2, amendedSuccess: 1, cancelled: 1 });
  expect(rows.every((p) => p.id.startsWith('pay_'))).to.equal(true);
  // Never asked: statuses from before confirmation was kept have nothing to wait for.
  expect(rows.map((p) => p.confirmation)).to.deep.equal(['off', 'off', 'off', 'off']);
}

/** What undoes each migration appended after the payouts one, newest first: undone with it. */
const UNDO_AFTER_PAYOUTS = [
  // The age index went with the payouts table: applied again as it is.
  'SELECT 1;',
  // Ordered destinations' lines.
  'DROP INDEX deliveries_lines; DROP INDEX deliveries_pending; DROP TABLE payout_order; ' +
    "CREATE INDEX deliveries_pending ON deliveries (destination, next_attempt_ms) WHERE state = 'pending'; " +
    'ALTER TABLE deliveries DROP COLUMN payout_key; ' +
    'ALTER TABLE deliveries DROP COLUMN payout_seq; ALTER TABLE deliveries DROP COLUMN held_since_ms;',
  // The destinations' breakers.
  'DROP TABLE destination_states;',
  // The ledger's columns and tables.
  'DROP TABLE ledger_days; DROP TABLE callback_tally; ALTER TABLE deliveries DROP COLUMN replays; ' +
    'ALTER TABLE events DROP COLUMN routes; ALTER TABLE events DROP COLUMN origin;',
  // The history indexes (applied again as they are) and the counts kept beside the rows, built again from them.
  'DROP TABLE payout_counts; DROP TABLE destination_activity;',
  // The delivery indexes: applied again as they are (idempotent).
  'SELECT 1;',
  // The confirmation column went with the payouts table; its index too.
  'DROP INDEX IF EXISTS payouts_confirmation_pending;',
  ['created_via', 'created_from', 'expired_via', 'expired_from']
    .map((c) => `ALTER TABLE silences DROP COLUMN ${c};`)
    .join(' '),
  'DROP TABLE rejection_quota;',
  'DROP TABLE payout_reconciliations;',
];

describe('payouts migration: SQLite', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skyrelay-payout-migration-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds payouts from the events already stored', async () => {
    const file = path.join(dir, 'skyrelay.db');
    const before = openSqliteStore(file);
    await storeOldEvents(before);
    await before.close();
    const db = openSqliteFile(file);
    const version = db.pragma('user_version', { simple: true }) as number;
    // Back to the schema before the payouts migration: undo it and the migrations appended after it.
    db.exec(`DROP TABLE payouts; ${UNDO_AFTER_PAYOUTS.join(' ')}`);
    db.pragma(`user_version = ${version - 1 - UNDO_AFTER_PAYOUTS.length}`);
    db.close();
    const after = openSqliteStore(file);
    try {
      await expectBuilt(after);
    } finally {
      await after.close();
    }
  });
});

describePostgres('payouts migration: PostgreSQL', () => {
  it('builds payouts from the events already stored', async () => {
    const database = await createTestDatabase();
    try {
      const before = await openPostgresStore({ url: database.url, poolSize: 2 });
      await storeOldEvents(before);
      await before.close();
      const client = new Client({ connectionString: database.url });
      await client.connect();
      await client.query('DROP TABLE payouts');
      for (const undo of UNDO_AFTER_PAYOUTS) await client.query(undo);
      await client.query(
        'DELETE FROM schema_migrations WHERE version > (SELECT max(version) FROM schema_migrations) - $1',
        [1 + UNDO_AFTER_PAYOUTS.length],
      );
      await client.end();
      const after = await openPostgresStore({ url: database.url, poolSize: 2 });
      try {
        await expectBuilt(after);
      } finally {
        await after.close();
      }
    } finally {
      await database.drop();
    }
  });
});
