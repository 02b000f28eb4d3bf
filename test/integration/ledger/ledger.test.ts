import { expect } from 'chai';
import { Client } from 'pg';
import type { Ledger } from '../../../src/ledger/types';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';
import { sqliteHandle } from '../../support/sqlite';
import { runCli } from '../cli/run-cli';
import { admin, expectLedgerOf, playMixedDay, prepareMixedDay, type MixedDay } from './mixed-day';

/** Damage done straight in the store's tables, as a bad migration, a hand edit or a broken disk would. */
interface Damage {
  setDeliveryState(deliveryId: string, state: string): Promise<void>;
  deleteEvent(eventId: string): Promise<void>;
}

function sqliteDamage(t: TestDaemon): Damage {
  const db = sqliteHandle(t.daemon.store);
  return {
    setDeliveryState: async (id, state) => {
      // The CHECK on state is what a damaged file no longer has.
      db.pragma('ignore_check_constraints = ON');
      db.prepare('UPDATE deliveries SET state = ? WHERE id = ?').run(state, id);
      db.pragma('ignore_check_constraints = OFF');
    },
    deleteEvent: async (id) => {
      db.prepare('DELETE FROM deliveries WHERE event_id = ?').run(id);
      db.prepare('DELETE FROM events WHERE id = ?').run(id);
    },
  };
}

function postgresDamage(url: string): Damage {
  const run = async (sql: string, params: unknown[]) => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql, params);
    } finally {
      await client.end();
    }
  };
  return {
    setDeliveryState: async (id, state) => {
      await run('ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_state_check', []);
      await run('UPDATE deliveries SET state = $1 WHERE id = $2', [state, id]);
    },
    deleteEvent: async (id) => {
      await run('DELETE FROM deliveries WHERE event_id = $1', [id]);
      await run('DELETE FROM events WHERE id = $1', [id]);
    },
  };
}

async function ledgerOf(t: TestDaemon, day: string): Promise<Ledger> {
  const res = await admin(t, 'GET', `/admin/ledger?day=${day}`);
  expect(res.status, JSON.stringify(res.json)).to.equal(200);
  return res.json as unknown as Ledger;
}

/** The whole proof on one store: a mixed day balances, the CLI agrees, and damaged rows are named. */
function proveLedger(
  open: () => Promise<{ store: Record<string, unknown>; damage: (t: TestDaemon) => Damage; done(): Promise<void> }>,
) {
  let m: MixedDay | undefined;
  let t: TestDaemon | undefined;
  let cleanup: (() => Promise<void>) | undefined;

  afterEach(async () => {
    await t?.stop();
    await m?.close();
    await cleanup?.();
    [t, m, cleanup] = [undefined, undefined, undefined];
  });

  it('balances a mixed day with the numbers the test counted, names damaged rows, and the CLI exits 0 then 3', async () => {
    const opened = await open();
    cleanup = opened.done;
    m = await prepareMixedDay(opened.store);
    t = await startTestDaemon(m.config);
    const expected = await playMixedDay(t, m);
    const ledger = await ledgerOf(t, expected.day);
    expectLedgerOf(ledger, expected, m.slack.requests.length);

    const cliConfig = 'url' in opened.store ? m.config : { ...m.config, store: { path: t.dbPath } };
    const json = await runCli(['ledger', '--day', expected.day, '--json'], cliConfig);
    expect(json.code, json.stderr).to.equal(0);
    expect((JSON.parse(json.stdout) as Ledger).callbacks).to.deep.equal(ledger.callbacks);
    const text = await runCli(['ledger', '--day', expected.day], cliConfig);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.contain(`Ledger ${expected.day} (+08:00`);
    expect(text.stdout).to.contain('BALANCED');

    // A delivered delivery set to a state no end knows, and a group's message deleted under its members.
    const damage = opened.damage(t);
    const delivered = await admin(t, 'GET', '/admin/deliveries?destination=hook&state=delivered&limit=1');
    const victim = (delivered.json['items'] as { id: string; eventId: string }[])[0]!;
    await damage.setDeliveryState(victim.id, 'misplaced');
    const failures = await admin(t, 'GET', `/admin/events?controlNumber=${expected.failures[0]}&status=failure`);
    const failureId = (failures.json['items'] as { id: string }[])[0]!.id;
    const member = await admin(t, 'GET', `/admin/events/${failureId}`);
    const group = (member.json['groups'] as { messageEventId: string }[])[0]!;
    await damage.deleteEvent(group.messageEventId);

    const damaged = await ledgerOf(t, expected.day);
    expect(damaged.balanced).to.equal(false);
    const named = damaged.unexplained.map((u) => `${u.kind} ${u.id}`);
    expect(named).to.include(`delivery ${victim.id}`);
    expect(named).to.include(`groupMember ${failureId}`);
    expect(damaged.unexplained.find((u) => u.id === victim.id)?.why).to.contain('"misplaced"');
    const unbalanced = await runCli(['ledger', '--day', expected.day, '--csv'], cliConfig);
    expect(unbalanced.code, unbalanced.stderr).to.equal(3);
    expect(unbalanced.stdout).to.contain(`unexplained,delivery,${victim.id},`);
    expect(unbalanced.stdout.trim().split('\n').at(-1)).to.equal('balanced,,,false');
  });
}

describe('the ledger on SQLite: a mixed day through the running daemon', function () {
  this.timeout(90_000);
  proveLedger(async () => ({
    store: {},
    damage: sqliteDamage,
    done: async () => undefined,
  }));
});

describePostgres('the ledger on PostgreSQL: a mixed day through the running daemon', function () {
  this.timeout(90_000);
  let db: TestDatabase | undefined;
  proveLedger(async () => {
    db = await createTestDatabase();
    const url = db.url;
    return { store: { url }, damage: () => postgresDamage(url), done: () => db!.drop() };
  });
});
