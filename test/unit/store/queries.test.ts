import { expect } from 'chai';
import path from 'node:path';
import type { RelayEvent } from '../../../src/event';
import type { Store } from '../../../src/store';
import { makeTempDir } from '../../support/daemon';
import { buildPaidEvent, buildPayoutEvent, buildRejectionEvent } from '../../support/fixtures';
import { openSqliteStore, sqliteHandle, type SqliteHandle } from '../../support/sqlite';

const T0 = Date.parse('2026-01-01T00:00:00Z');
let seq = 0;

/** Time-sortable ids like createId's, but with a chosen instant so order is exact. */
function idAt(prefix: string, ms: number): string {
  seq += 1;
  return `${prefix}_${String(ms).padStart(14, '0')}${String(seq).padStart(6, '0')}`;
}

function setState(db: SqliteHandle, id: string, state: string, updatedMs = T0): void {
  db.prepare('UPDATE deliveries SET state = ?, attempts = 3, updated_ms = ?, last_error = ? WHERE id = ?').run(
    state,
    updatedMs,
    state === 'dead' ? 'HTTP 400' : null,
    id,
  );
}

describe('store queries (shared by the CLI and the admin API)', () => {
  let store: Store;
  let db: SqliteHandle;
  const ids: Record<string, string> = {};

  before(async () => {
    store = openSqliteStore(path.join(makeTempDir(), 'q.db'));
    db = sqliteHandle(store);
    const save = async (name: string, event: RelayEvent, destinations: string[]) => {
      const deliveries = destinations.map((d) => ({
        id: idAt('dlv', Date.parse(event.receivedAt)),
        destination: d,
        rules: ['r'],
      }));
      await store.saveEvent(event, deliveries);
      ids[name] = event.id;
      deliveries.forEach((d, i) => {
        ids[`${name}.${i}`] = d.id;
      });
    };
    await save(
      'paid',
      buildPaidEvent({ id: idAt('evt', T0), controlNumber: 'CN0000000000001', receivedAt: new Date(T0).toISOString() }),
      ['ledger'],
    );
    await save(
      'fail',
      buildPayoutEvent({
        id: idAt('evt', T0 + 1000),
        controlNumber: 'CN0000000000001',
        dealTime: '2018-08-07 12:00:00',
        receivedAt: new Date(T0 + 1000).toISOString(),
      }),
      ['ledger', 'slack'],
    );
    await save(
      'other',
      buildPayoutEvent({
        id: idAt('evt', T0 + 2000),
        controlNumber: 'CN0000000000002',
        receivedAt: new Date(T0 + 2000).toISOString(),
      }),
      [],
    );
    await save(
      'rej',
      buildRejectionEvent({ id: idAt('evt', T0 + 3000), receivedAt: new Date(T0 + 3000).toISOString() }),
      ['slack'],
    );
    setState(db, ids['fail.0'] as string, 'dead', T0 + 5000);
    setState(db, ids['fail.1'] as string, 'delivered', T0 + 5000);
    setState(db, ids['paid.0'] as string, 'dead', T0 - 86_400_000);
  });
  after(async () => {
    await store.close();
  });

  it('lists events newest first with delivery counts, and filters by control number, status, type and time', async () => {
    const all = await store.listEvents({ limit: 10 });
    expect(all.map((e) => e.id)).to.deep.equal([ids['rej'], ids['other'], ids['fail'], ids['paid']]);
    expect(all[2]?.deliveries).to.deep.equal({ pending: 0, inflight: 0, delivered: 1, dead: 1 });
    expect((await store.listEvents({ controlNumber: 'CN0000000000001', limit: 10 })).map((e) => e.id)).to.deep.equal([
      ids['fail'],
      ids['paid'],
    ]);
    expect((await store.listEvents({ status: 'failure', limit: 10 })).map((e) => e.id)).to.deep.equal([
      ids['other'],
      ids['fail'],
    ]);
    expect((await store.listEvents({ type: 'rejection', limit: 10 })).map((e) => e.id)).to.deep.equal([ids['rej']]);
    expect((await store.listEvents({ sinceMs: T0 + 2000, limit: 10 })).map((e) => e.id)).to.deep.equal([
      ids['rej'],
      ids['other'],
    ]);
  });

  it("pages with the previous page's last id as the cursor, without gaps or repeats", async () => {
    const first = await store.listEvents({ limit: 2 });
    const second = await store.listEvents({ limit: 2, before: first[1]?.id });
    expect([...first, ...second].map((e) => e.id)).to.deep.equal(
      (await store.listEvents({ limit: 10 })).map((e) => e.id),
    );
  });

  it('shows an event with its deliveries and attempts, by id or by control number (oldest first)', async () => {
    db.prepare(
      `INSERT INTO attempts (delivery_id, attempt, started_ms, duration_ms, outcome, status, error)
      VALUES (?, 1, ?, 12, 'dead', 400, 'HTTP 400')`,
    ).run(ids['fail.0'], T0 + 4000);
    const detail = await store.getEvent(ids['fail'] as string);
    expect(detail?.event).to.include({ id: ids['fail'], status: 'failure' });
    expect(detail?.deliveries.map((d) => [d.destination, d.state])).to.deep.equal([
      ['ledger', 'dead'],
      ['slack', 'delivered'],
    ]);
    expect(detail?.deliveries[0]?.attemptLog).to.deep.equal([
      {
        attempt: 1,
        startedAt: new Date(T0 + 4000).toISOString(),
        durationMs: 12,
        outcome: 'dead',
        status: 400,
        error: 'HTTP 400',
        response: null,
      },
    ]);
    expect((await store.findEventsByControlNumber('CN0000000000001')).map((d) => d.event.id)).to.deep.equal([
      ids['paid'],
      ids['fail'],
    ]);
    expect(await store.getEvent('evt_nope')).to.equal(undefined);
  });

  it('lists deliveries by state, destination and time of the last change', async () => {
    expect((await store.listDeliveries({ state: 'dead', limit: 10 })).map((d) => d.id)).to.deep.equal([
      ids['fail.0'],
      ids['paid.0'],
    ]);
    expect((await store.listDeliveries({ state: 'dead', sinceMs: T0, limit: 10 })).map((d) => d.id)).to.deep.equal([
      ids['fail.0'],
    ]);
    expect((await store.listDeliveries({ destination: 'slack', limit: 10 })).map((d) => d.eventType)).to.deep.equal([
      'skyrelay.rejection',
      'skypay.payout',
    ]);
  });

  it('replays named finished deliveries with a fresh attempt budget and leaves queued ones alone', async () => {
    const r = await store.replayDeliveries([ids['fail.1'] as string, ids['rej.0'] as string, 'dlv_missing'], T0 + 9000);
    expect(r.requeued).to.deep.equal([ids['fail.1']]);
    expect(r.skipped).to.deep.equal([
      { id: ids['rej.0'], reason: 'already pending' },
      { id: 'dlv_missing', reason: 'no such delivery' },
    ]);
    const deliveries = (await store.getEvent(ids['fail'] as string))?.deliveries ?? [];
    const row = deliveries.find((d) => d.id === ids['fail.1']);
    expect(row).to.include({ state: 'pending', attempts: 0, nextAttemptAt: new Date(T0 + 9000).toISOString() });
    // The history stays for `show`.
    expect(deliveries.find((d) => d.id === ids['fail.0'])?.attemptLog).to.have.length(1);
  });

  it('replays dead deliveries by destination and since, in one transaction', async () => {
    const r = await store.replayMatching({ state: 'dead', destination: 'ledger', sinceMs: T0 }, T0 + 9000);
    expect(r.requeued).to.deep.equal([ids['fail.0']]);
    expect((await store.listDeliveries({ state: 'dead', limit: 10 })).map((d) => d.id)).to.deep.equal([ids['paid.0']]);
  });

  it('replays an event to the destinations the current rules choose, adding new ones and naming dropped ones', async () => {
    setState(db, ids['paid.0'] as string, 'delivered');
    const r = await store.replayEvent(
      ids['paid'] as string,
      () => [
        { id: 'dlv_new', destination: 'email', rules: ['new-rule'] },
        { id: 'dlv_unused', destination: 'ledger', rules: ['r2'] },
      ],
      T0 + 9000,
    );
    expect(r?.created).to.deep.equal(['dlv_new']);
    expect(r?.requeued).to.deep.equal([ids['paid.0']]);
    const paid = await store.getEvent(ids['paid'] as string);
    expect(paid?.deliveries.find((d) => d.id === ids['paid.0'])?.rules).to.deep.equal(['r2']);
    const dropped = await store.replayEvent(ids['rej'] as string, () => [], T0);
    expect(dropped?.skipped).to.deep.equal([
      { id: ids['rej.0'], reason: 'the rules no longer route this event to slack' },
    ]);
    expect(await store.replayEvent('evt_missing', () => [])).to.equal(undefined);
  });

  it('lists refused callbacks newest first, by reason and time, in pages, without their bodies', async () => {
    const refuse = async (ms: number, reason: string, partner?: string) => {
      const id = idAt('rej', ms);
      await store.saveRejection({
        id,
        receivedAt: new Date(ms),
        remoteAddress: '10.0.0.1',
        method: 'POST',
        path: '/cb',
        contentType: 'application/json',
        status: reason === 'invalid' ? 400 : 401,
        reason,
        description: `${reason} at ${ms}`,
        partner,
        body: '{"secret":"***"}',
      });
      return id;
    };
    const a = await refuse(T0, 'unauthenticated', 'Acme@skypay');
    const b = await refuse(T0 + 1000, 'invalid');
    const c = await refuse(T0 + 2000, 'unauthenticated');
    expect((await store.listRejections({ limit: 10 })).map((r) => r.id)).to.deep.equal([c, b, a]);
    expect((await store.listRejections({ reason: 'unauthenticated', limit: 10 })).map((r) => r.id)).to.deep.equal([
      c,
      a,
    ]);
    expect((await store.listRejections({ sinceMs: T0 + 1000, limit: 10 })).map((r) => r.id)).to.deep.equal([c, b]);
    expect((await store.listRejections({ before: c, limit: 1 })).map((r) => r.id)).to.deep.equal([b]);
    expect(await store.listRejections({ before: a, limit: 10 })).to.deep.equal([]);
    expect((await store.listRejections({ limit: 10 }))[2]).to.deep.equal({
      id: a,
      receivedAt: new Date(T0).toISOString(),
      remoteAddress: '10.0.0.1',
      method: 'POST',
      path: '/cb',
      status: 401,
      reason: 'unauthenticated',
      partner: 'Acme@skypay',
      description: `unauthenticated at ${T0}`,
      suppressed: 0,
    });
  });
});
