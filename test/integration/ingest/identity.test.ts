import { expect } from 'chai';
import path from 'node:path';
import { stringifyEvent } from '../../../src/event-json';
import { migrateSqlite, openSqliteFile } from '../../support/sqlite';
import { makeTempDir, startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import { SAMPLE_AUTH, SAMPLE_PARTNER, buildCallback, nextControlNumber, postCallback } from '../../support/skypay';
import { runCli } from '../cli/run-cli';
import { buildPaidEvent } from '../../support/fixtures';
import type { Store } from '../../../src/store/store';
import type { CallbackIdentity, EventDetail } from '../../../src/store/types';

const TOKEN = 'identity-admin-token-0123456789';
const SECRET = `whsec_${Buffer.from('identity-test-signing-secret-01').toString('base64')}`;
const OTHER_PARTNER = 'Other@skypay';
const OTHER_AUTH = 'OTHER-PARTNER-KEY-0000-1111-2222';
const DAY = 86_400_000;

/** Old-schema fixture and migration checks only: results are read through the store below. */
function query<T>(dbPath: string, sql: string, ...params: unknown[]): T[] {
  const db = openSqliteFile(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}
const countOf = (dbPath: string, sql: string, ...params: unknown[]): number =>
  Object.values(query<Record<string, number>>(dbPath, sql, ...params)[0] ?? {})[0] ?? 0;
/** Back-dates rows (the interface has no verb for an older arrival), instead of waiting days. */
const write = (dbPath: string, sql: string, ...params: unknown[]): void => {
  const db = openSqliteFile(dbPath);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
};

/** Every event of one payout, oldest first, as `skyrelay show <controlNumber>` lists them. */
const eventsOf = (store: Store, cn: unknown): Promise<EventDetail[]> => store.findEventsByControlNumber(String(cn));
/** The identities dedup keeps for one payout: they outlive its events. */
const identitiesOf = (store: Store, cn: unknown): Promise<CallbackIdentity[]> =>
  store.findCallbackIdentities(String(cn));
const partnerOf = (detail: EventDetail): string | undefined =>
  detail.event.source === 'skypay' ? detail.event.partner : undefined;

const about =
  (cn: unknown) =>
  (r: RecordedRequest): boolean =>
    r.body.includes(String(cn));
const ack = async (url: string, body: Record<string, unknown>): Promise<void> => {
  const reply = await postCallback(url, body);
  expect(reply.status, reply.text).to.equal(200);
  expect(reply.json?.['responseCode']).to.equal('1000');
};

const partners = [
  { userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH] },
  { userName: OTHER_PARTNER, authentication: [OTHER_AUTH] },
];

describe('callback identity: partner, permanent dedup, conflicting copies (real daemon, real receivers)', function () {
  this.timeout(20_000);
  let t: TestDaemon;
  let ledger: Receiver;
  let ops: Receiver;
  let overrides: Record<string, unknown>;

  before(async () => {
    [ledger, ops] = await Promise.all([startReceiver(), startReceiver()]);
    overrides = {
      admin: { token: TOKEN },
      skypay: { partners },
      destinations: {
        ledger: { type: 'webhook', url: `${ledger.url}/ledger`, secret: SECRET },
        ops: { type: 'webhook', url: `${ops.url}/ops`, secret: SECRET },
      },
      rules: [
        { name: 'ledger-feed', to: ['ledger'] },
        { name: 'conflicts', match: { type: 'callback.conflict' }, to: ['ops'] },
      ],
    };
    t = await startTestDaemon(overrides);
  });
  after(async () => {
    await t.stop();
    await Promise.all([ledger.close(), ops.close()]);
  });

  /** Waits until a later callback is delivered: whatever an earlier one would have caused is in by then. */
  async function settle(): Promise<void> {
    const marker = buildCallback({ payType: '1' });
    await ack(t.callbackUrl, marker);
    await ledger.waitFor((rs) => rs.some(about(marker['controlNumber'])));
  }

  it('takes a replay of a callback pruned by `skyrelay prune --older-than 1s` as a duplicate', async () => {
    const body = buildCallback({ payType: '2', referenceNumber: 'REF-PRUNED' });
    const cn = body['controlNumber'];
    await ack(t.callbackUrl, body);
    await ledger.waitFor((rs) => rs.some(about(cn)));
    await waitUntil(
      async () => (await eventsOf(t.daemon.store, cn))[0]?.deliveries.map((d) => d.state).join() === 'delivered',
      'the delivery to finish',
    );
    // Ten seconds old instead of a sleep: prune --older-than 1s then takes it.
    write(t.dbPath, 'UPDATE events SET received_ms = received_ms - 10000 WHERE control_number = ?', cn);
    const cli = await runCli(['prune', '--older-than', '1s'], { ...overrides, store: { path: t.dbPath } });
    expect(cli.code, cli.stderr).to.equal(0);
    expect(await eventsOf(t.daemon.store, cn)).to.deep.equal([]);

    await ack(t.callbackUrl, body);
    await settle();
    expect(ledger.requests.filter(about(cn))).to.have.length(1);
    expect(await eventsOf(t.daemon.store, cn)).to.deep.equal([]);
    expect((await identitiesOf(t.daemon.store, cn)).map((k) => [k.partner, k.payType])).to.deep.equal([
      [SAMPLE_PARTNER, 2],
    ]);
    const lines = t.logs.filter((l) => l.includes(String(cn)) && l.includes('"msg":"callback"'));
    expect(lines.map((l) => (JSON.parse(l) as { outcome: string }).outcome)).to.deep.equal(['accepted', 'duplicate']);
  });

  it("keeps partner A's callback when partner B sent its (controlNumber, payType, dealTime) first", async () => {
    const cn = nextControlNumber();
    const fromB = buildCallback({
      userName: OTHER_PARTNER,
      authentication: OTHER_AUTH,
      controlNumber: cn,
      payType: '2',
    });
    const fromA = buildCallback({ controlNumber: cn, payType: '2' });
    await ack(t.callbackUrl, fromB);
    await ack(t.callbackUrl, fromA);
    await ack(t.callbackUrl, fromA);
    const rows = (await eventsOf(t.daemon.store, cn)).map((d) => ({ partner: partnerOf(d), duplicates: d.duplicates }));
    expect(rows).to.deep.equal([
      { partner: OTHER_PARTNER, duplicates: 0 },
      { partner: SAMPLE_PARTNER, duplicates: 1 },
    ]);
    const sent = await ledger.waitFor((rs) => rs.filter(about(cn)).length === 2);
    const partnersSent = sent.filter(about(cn)).map((r) => (r.json as { data: { partner: string } }).data.partner);
    expect(partnersSent.sort()).to.deep.equal([SAMPLE_PARTNER, OTHER_PARTNER].sort());
  });

  it('keeps a copy with other content: 1000, warn, callback.conflict alert, shown by admin and CLI', async () => {
    const first = buildCallback({ payType: '4', failDescription: 'Invalid account', referenceNumber: 'REF-1' });
    const cn = first['controlNumber'];
    await ack(t.callbackUrl, first);
    await ack(t.callbackUrl, { ...first });
    await ack(t.callbackUrl, { ...first, referenceNumber: 'REF-2', branch: 'MNL-042' });

    const [stored, ...others] = (await eventsOf(t.daemon.store, cn)).map((d) => ({ ...d, id: d.event.id }));
    expect(others, 'the copy is no event').to.deep.equal([]);
    const event = stored;
    expect(event?.duplicates, 'the identical copy is counted').to.equal(1);
    // Kept as it reached the disk: the copy's exact stored text, without the key.
    const copies = (event?.conflicts ?? []).map((c) => ({ id: c.id, body: stringifyEvent(c.copy) }));
    expect(copies).to.have.length(1);
    expect(copies[0]?.body).to.include('"referenceNumber":"REF-2"').and.not.include(SAMPLE_AUTH);

    const alerts = await ops.waitFor((rs) => rs.some(about(cn)));
    type Alert = { type: string; data: { source: string; type: string; data: Record<string, unknown> } };
    const alert = alerts.find(about(cn))?.json as Alert;
    expect(alert.type).to.equal('skyrelay.callback.conflict');
    expect(alert.data.source).to.equal('skyrelay');
    expect(alert.data.data).to.include({
      eventId: event?.id,
      copyId: copies[0]?.id,
      partner: SAMPLE_PARTNER,
      controlNumber: cn,
      payType: 4,
      differs: 'referenceNumber, extra.branch',
    });
    expect(JSON.stringify(alerts)).not.to.include(SAMPLE_AUTH);
    await settle();
    expect(ledger.requests.filter(about(cn)), 'the copy is relayed nowhere').to.have.length(1);

    const warned = t.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['controlNumber'] === cn && l['outcome'] === 'conflict');
    expect(warned).to.include({ level: 40, conflict: copies[0]?.id, eventId: event?.id });

    const auth = { authorization: `Bearer ${TOKEN}` };
    const res = await fetch(`${t.baseUrl}/admin/events/${event?.id}`, { headers: auth });
    type Copy = { id: string; differs: string[]; copy: { referenceNumber: string } };
    const detail = (await res.json()) as { conflicts: Copy[] };
    expect(detail.conflicts.map((c) => [c.id, c.differs, c.copy.referenceNumber])).to.deep.equal([
      [copies[0]?.id, ['referenceNumber', 'extra.branch'], 'REF-2'],
    ]);

    const cli = await runCli(['show', String(event?.id)], { ...overrides, store: { path: t.dbPath } });
    expect(cli.code, cli.stderr).to.equal(0);
    expect(cli.stdout).to.include('conflicting copies 1').and.include(String(copies[0]?.id)).and.include('"REF-2"');
  });

  it('decides duplicate or conflict in the dedup transaction: 10 + 10 concurrent copies, two contents', async () => {
    const a = buildCallback({ payType: '6', failDescription: 'Closed' });
    const b = { ...a, failDescription: 'Frozen' };
    await Promise.all(Array.from({ length: 20 }, (_, i) => ack(t.callbackUrl, i % 2 ? a : b)));
    const events = await eventsOf(t.daemon.store, a['controlNumber']);
    expect(events, 'one event').to.have.length(1);
    // Whichever came first, the nine others like it are duplicates and the ten unlike it one copy, sent ten times.
    expect(events[0]?.duplicates).to.equal(9);
    expect(events[0]?.conflicts.map((c) => c.repeats)).to.deep.equal([9]);
    await ops.waitFor((rs) => rs.some(about(a['controlNumber'])));
    await settle();
    expect(ops.requests.filter(about(a['controlNumber'])), 'one alert for one conflicting content').to.have.length(1);
  });
});

describe("permanent dedup under the daemon's own retention job", function () {
  this.timeout(20_000);

  it('forgets an identity after store.dedupRetentionDays once its event is gone: the callback is new', async () => {
    const t = await startTestDaemon({ store: { retentionDays: 1, dedupRetentionDays: 2, retentionIntervalMs: 100 } });
    try {
      const body = buildCallback({ payType: '5' });
      const cn = body['controlNumber'];
      await ack(t.callbackUrl, body);
      write(t.dbPath, 'UPDATE events SET received_ms = received_ms - ? WHERE control_number = ?', 3 * DAY, cn);
      write(t.dbPath, 'UPDATE callback_keys SET received_ms = received_ms - ? WHERE control_number = ?', 3 * DAY, cn);
      await waitUntil(
        async () => (await identitiesOf(t.daemon.store, cn)).length === 0,
        'the retention job to drop the identity',
      );
      expect(await eventsOf(t.daemon.store, cn), 'the event went first').to.deep.equal([]);
      await ack(t.callbackUrl, body);
      const events = await eventsOf(t.daemon.store, cn);
      expect(events.map((d) => d.duplicates)).to.deep.equal([0]);
      expect(await identitiesOf(t.daemon.store, cn)).to.have.length(1);
    } finally {
      await t.stop();
    }
  });

  it('acknowledges a callback whose event the retention job removed as a duplicate, relayed nowhere', async () => {
    const ledger = await startReceiver();
    const t = await startTestDaemon({
      store: { retentionDays: 1, retentionIntervalMs: 100 },
      destinations: { ledger: { type: 'webhook', url: `${ledger.url}/ledger`, secret: SECRET } },
      rules: [{ name: 'ledger-feed', to: ['ledger'] }],
    });
    try {
      const body = buildCallback({ payType: '3' });
      const cn = body['controlNumber'];
      await ack(t.callbackUrl, body);
      await ledger.waitFor(1);
      await waitUntil(
        async () => (await eventsOf(t.daemon.store, cn))[0]?.deliveries.map((d) => d.state).join() === 'delivered',
        'the delivery to finish',
      );
      write(t.dbPath, 'UPDATE events SET received_ms = received_ms - ? WHERE control_number = ?', 2 * DAY, cn);
      await waitUntil(
        async () => (await eventsOf(t.daemon.store, cn)).length === 0,
        'the retention job to prune the event',
      );
      await ack(t.callbackUrl, body);
      const marker = buildCallback({ payType: '1' });
      await ack(t.callbackUrl, marker);
      await ledger.waitFor((rs) => rs.some(about(marker['controlNumber'])));
      expect(ledger.requests.filter(about(cn))).to.have.length(1);
      expect(await eventsOf(t.daemon.store, cn)).to.deep.equal([]);
      expect(await identitiesOf(t.daemon.store, cn), 'what made it a duplicate').to.have.length(1);
    } finally {
      await t.stop();
      await ledger.close();
    }
  });
});

describe('a database written by the previous schema', function () {
  this.timeout(20_000);

  it('is migrated: identities from its events, partner-aware dedup, conflicts found against old events', async () => {
    const dbPath = path.join(makeTempDir(), 'old.db');
    const cn = nextControlNumber();
    const dealTime = '2018-08-07 11:58:33';
    const old = openSqliteFile(dbPath);
    old.pragma('journal_mode = WAL');
    // The two migrations the last release shipped; the identity index then had no partner.
    migrateSqlite(old, 2);
    const receivedMs = Date.now() - DAY;
    // The event as that release stored it: its body had the same shape as today's.
    const body = JSON.stringify(
      buildPaidEvent({
        id: 'evt_old',
        action: 'payoutQueuePayout',
        partner: SAMPLE_PARTNER,
        controlNumber: cn,
        dealTime,
        dealTimeUtc: '2018-08-07T03:58:33.000Z',
        referenceNumber: 'REF-OLD',
        extra: { branch: 'MNL-042' },
        receivedAt: new Date(receivedMs).toISOString(),
      }),
    );
    old
      .prepare(
        `INSERT INTO events
      (id, source, type, partner, control_number, pay_type, status, deal_time, body, received_ms)
      VALUES ('evt_old', 'skypay', 'payout', ?, ?, 2, 'paid', ?, ?, ?)`,
      )
      .run(SAMPLE_PARTNER, cn, dealTime, body, receivedMs);
    old.close();

    const t = await startTestDaemon({ skypay: { partners } }, { dbPath });
    try {
      expect(await identitiesOf(t.daemon.store, cn)).to.deep.equal([
        {
          partner: SAMPLE_PARTNER,
          controlNumber: cn,
          payType: 2,
          dealTime,
          eventId: 'evt_old',
          receivedAt: new Date(receivedMs).toISOString(),
        },
      ]);
      const same = buildCallback({
        controlNumber: cn,
        payType: '2',
        dealTime,
        referenceNumber: 'REF-OLD',
        branch: 'MNL-042',
      });
      await ack(t.callbackUrl, same);
      await ack(t.callbackUrl, { ...same, userName: OTHER_PARTNER, authentication: OTHER_AUTH });
      await ack(t.callbackUrl, { ...same, referenceNumber: 'REF-NEW' });
      const events = await eventsOf(t.daemon.store, cn);
      expect(
        events
          .map((d) => ({ old: d.event.id === 'evt_old', partner: partnerOf(d), duplicates: d.duplicates }))
          .sort((x, y) => String(x.partner).localeCompare(String(y.partner))),
      ).to.deep.equal([
        { old: true, partner: SAMPLE_PARTNER, duplicates: 1 },
        { old: false, partner: OTHER_PARTNER, duplicates: 0 },
      ]);
      expect(events.find((d) => d.event.id === 'evt_old')?.conflicts.map((c) => c.copy.referenceNumber)).to.deep.equal([
        'REF-NEW',
      ]);
      // The migration's own bookkeeping, below the interface: every carried-over key got its digest on first use.
      expect(countOf(dbPath, 'SELECT count(*) FROM callback_keys WHERE digest IS NULL')).to.equal(0);
    } finally {
      await t.stop();
    }
  });
});
