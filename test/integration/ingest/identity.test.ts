import { expect } from 'chai';
import path from 'node:path';
import { migrateSqlite, openSqliteFile } from '../../support/sqlite';
import { makeTempDir, startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import { SAMPLE_AUTH, SAMPLE_PARTNER, buildCallback, nextControlNumber, postCallback } from '../../support/skypay';
import { runCli } from '../cli/run-cli';

const TOKEN = 'identity-admin-token-0123456789';
const SECRET = `whsec_${Buffer.from('identity-test-signing-secret-01').toString('base64')}`;
const OTHER_PARTNER = 'Other@skypay';
const OTHER_AUTH = 'OTHER-PARTNER-KEY-0000-1111-2222';
const DAY = 86_400_000;

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
const write = (dbPath: string, sql: string, ...params: unknown[]): void => {
  const db = openSqliteFile(dbPath);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
};

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
      () =>
        countOf(
          t.dbPath,
          `SELECT count(*) FROM deliveries d JOIN events e ON e.id = d.event_id
      WHERE e.control_number = ? AND d.state = 'delivered'`,
          cn,
        ) === 1,
      'the delivery to finish',
    );
    // Ten seconds old instead of a sleep: prune --older-than 1s then takes it.
    write(t.dbPath, 'UPDATE events SET received_ms = received_ms - 10000 WHERE control_number = ?', cn);
    const cli = await runCli(['prune', '--older-than', '1s'], { ...overrides, store: { path: t.dbPath } });
    expect(cli.code, cli.stderr).to.equal(0);
    expect(countOf(t.dbPath, 'SELECT count(*) FROM events WHERE control_number = ?', cn)).to.equal(0);

    await ack(t.callbackUrl, body);
    await settle();
    expect(ledger.requests.filter(about(cn))).to.have.length(1);
    expect(countOf(t.dbPath, 'SELECT count(*) FROM events WHERE control_number = ?', cn)).to.equal(0);
    expect(countOf(t.dbPath, 'SELECT count(*) FROM callback_keys WHERE control_number = ?', cn)).to.equal(1);
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
    const rows = query<{ partner: string; duplicates: number }>(
      t.dbPath,
      'SELECT partner, duplicates FROM events WHERE control_number = ? ORDER BY id',
      cn,
    );
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

    const [event] = query<{ id: string; duplicates: number }>(
      t.dbPath,
      'SELECT id, duplicates FROM events WHERE control_number = ?',
      cn,
    );
    expect(event?.duplicates, 'the identical copy is counted').to.equal(1);
    const copies = query<{ id: string; event_id: string; body: string }>(
      t.dbPath,
      'SELECT id, event_id, body FROM callback_copies WHERE event_id = ?',
      event?.id,
    );
    expect(copies).to.have.length(1);
    expect(copies[0]?.body).to.include('REF-2').and.not.include(SAMPLE_AUTH);

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
    const [event] = query<{ id: string; duplicates: number }>(
      t.dbPath,
      'SELECT id, duplicates FROM events WHERE control_number = ?',
      a['controlNumber'],
    );
    // Whichever came first, the nine others like it are duplicates and the ten unlike it one copy, sent ten times.
    expect(event?.duplicates).to.equal(9);
    expect(query(t.dbPath, 'SELECT repeats FROM callback_copies WHERE event_id = ?', event?.id)).to.deep.equal([
      { repeats: 9 },
    ]);
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
        () => countOf(t.dbPath, 'SELECT count(*) FROM callback_keys WHERE control_number = ?', cn) === 0,
        'the retention job to drop the identity',
      );
      await ack(t.callbackUrl, body);
      expect(countOf(t.dbPath, 'SELECT count(*) FROM events WHERE control_number = ?', cn)).to.equal(1);
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
      const delivered = "SELECT count(*) FROM deliveries WHERE state = 'delivered'";
      await waitUntil(() => countOf(t.dbPath, delivered) === 1, 'the delivery to finish');
      write(t.dbPath, 'UPDATE events SET received_ms = received_ms - ? WHERE control_number = ?', 2 * DAY, cn);
      await waitUntil(
        () => countOf(t.dbPath, 'SELECT count(*) FROM events WHERE control_number = ?', cn) === 0,
        'the retention job to prune the event',
      );
      await ack(t.callbackUrl, body);
      const marker = buildCallback({ payType: '1' });
      await ack(t.callbackUrl, marker);
      await ledger.waitFor((rs) => rs.some(about(marker['controlNumber'])));
      expect(ledger.requests.filter(about(cn))).to.have.length(1);
      expect(countOf(t.dbPath, 'SELECT count(*) FROM events WHERE control_number = ?', cn)).to.equal(0);
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
    const body = JSON.stringify({
      id: 'evt_old',
      source: 'skypay',
      type: 'payout',
      action: 'payoutQueuePayout',
      partner: SAMPLE_PARTNER,
      controlNumber: cn,
      payType: 2,
      status: 'paid',
      dealTime,
      dealTimeUtc: '2018-08-07T03:58:33.000Z',
      failDescription: null,
      referenceNumber: 'REF-OLD',
      extra: { branch: 'MNL-042' },
      receivedAt: new Date(receivedMs).toISOString(),
      duplicates: 0,
    });
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
      expect(
        query(dbPath, 'SELECT partner, control_number, pay_type, deal_time, event_id FROM callback_keys'),
      ).to.deep.equal([
        { partner: SAMPLE_PARTNER, control_number: cn, pay_type: 2, deal_time: dealTime, event_id: 'evt_old' },
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
      expect(
        query(dbPath, 'SELECT id, partner, duplicates FROM events WHERE control_number = ? ORDER BY partner', cn).map(
          (r) => {
            const { id, ...rest } = r as { id: string };
            return { old: id === 'evt_old', ...rest };
          },
        ),
      ).to.deep.equal([
        { old: true, partner: SAMPLE_PARTNER, duplicates: 1 },
        { old: false, partner: OTHER_PARTNER, duplicates: 0 },
      ]);
      expect(countOf(dbPath, "SELECT count(*) FROM callback_copies WHERE event_id = 'evt_old'")).to.equal(1);
      expect(countOf(dbPath, 'SELECT count(*) FROM callback_keys WHERE digest IS NULL')).to.equal(0);
    } finally {
      await t.stop();
    }
  });
});
