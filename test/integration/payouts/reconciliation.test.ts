import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { replies, startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import {
  SAMPLE_AUTH,
  SAMPLE_ENCRYPT_KEY,
  SAMPLE_PARTNER,
  buildCallback,
  dealTimeFromNow,
  decryptReply,
  nextControlNumber,
  postCallback,
} from '../../support/skypay';
import { SkyPaySimulator } from '../../support/skypay-simulator';
import { createTestDatabase, describePostgres } from '../../support/postgres';
import { runCli } from '../cli/run-cli';

const SECRET = `whsec_${Buffer.from('reconcile-test-signing-secret-1').toString('base64')}`;
const TOKEN = 'reconcile-admin-token-0123456789';
const MINUTE = 60_000;
const PARTNER = { userName: SAMPLE_PARTNER, authentication: SAMPLE_AUTH, encryptKey: SAMPLE_ENCRYPT_KEY };

interface Envelope {
  type: string;
  data: { id: string; controlNumber?: string; origin?: string; data?: Record<string, unknown> };
}
const envelope = (r: RecordedRequest): Envelope => r.json as Envelope;
const about = (rs: readonly RecordedRequest[], type: string, cn: string): Envelope[] =>
  rs.map(envelope).filter((e) => e.type === type && (e.data.controlNumber ?? e.data.data?.['controlNumber']) === cn);
/** The control numbers one simulator request asked about. */
const askedIn = (body: Record<string, unknown> | undefined): string[] =>
  ((body?.['controlNumbers'] ?? []) as { controlNumber: string }[]).map((c) => c.controlNumber);

/** The config a test daemon (and the CLI next to it) runs with: the partner can make status queries. */
function overrides(sim: SkyPaySimulator, ledger: Receiver, ops: Receiver, statusQuery: Record<string, unknown>) {
  const hook = (r: Receiver) => ({ type: 'webhook', url: `${r.url}/hook`, secret: SECRET });
  return {
    skypay: {
      partners: [{ userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH], encryptKeys: [SAMPLE_ENCRYPT_KEY] }],
      statusQuery: { url: sim.url, partner: SAMPLE_PARTNER, timeoutMs: 1000, ...statusQuery },
    },
    destinations: { ledger: hook(ledger), ops: hook(ops) },
    rules: [
      { name: 'ledger-feed', match: { source: 'skypay' }, to: ['ledger'] },
      { name: 'payout-ops', match: { type: ['payout.anomaly'] }, to: ['ops'] },
    ],
    payouts: { stuckAfterMs: 0 },
    metrics: { publishIntervalMs: 100 },
    admin: { token: TOKEN },
    delivery: { pollIntervalMs: 100 },
  };
}

async function send(
  t: TestDaemon,
  controlNumber: string,
  payType: string,
  dealTime: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const res = await postCallback(t.callbackUrl, buildCallback({ controlNumber, payType, dealTime, ...extra }), {
    encryptKey: SAMPLE_ENCRYPT_KEY,
  });
  const reply = decryptReply(res.text, SAMPLE_ENCRYPT_KEY) as Record<string, unknown>;
  expect(reply['responseCode'], `payType ${payType}`).to.equal('1000');
}

const metricsOf = async (t: TestDaemon): Promise<string> => (await fetch(`${t.baseUrl}/metrics`)).text();

describe('reconciliation with SkyPay status query through the running daemon (simulator, real receivers)', function () {
  this.timeout(30_000);
  let sim: SkyPaySimulator;
  let ledger: Receiver;
  let ops: Receiver;
  let t: TestDaemon | undefined;
  let cliConfig: Record<string, unknown>;

  beforeEach(async () => {
    sim = await SkyPaySimulator.start(PARTNER);
    [ledger, ops] = await Promise.all([startReceiver(), startReceiver()]);
    for (const r of [ledger, ops]) r.respondWith(replies.ok());
  });
  afterEach(async () => {
    await t?.stop();
    t = undefined;
    await Promise.all([sim.stop(), ledger.close(), ops.close()]);
  });

  async function start(statusQuery: Record<string, unknown>, dbPath?: string): Promise<TestDaemon> {
    const o = overrides(sim, ledger, ops, statusQuery);
    t = await startTestDaemon(o, dbPath ? { dbPath } : {});
    cliConfig = { ...o, store: { path: t.dbPath } };
    return t;
  }

  it('creates the paid status no callback brought (origin reconciliation), relays it once; the late callback is a duplicate', async () => {
    const d = await start({ intervalMs: 200, minAgeMs: 600 });
    const cn = nextControlNumber('SKREC');
    const paidAt = dealTimeFromNow(-2 * MINUTE);
    sim.set({
      controlNumber: cn,
      transactionDate: dealTimeFromNow(-10 * MINUTE),
      status: '1',
      statusDesc: 'Completed',
      payTime: paidAt,
      cancelTime: '',
    });
    const uploadedAt = Date.now();
    await send(d, cn, '1', dealTimeFromNow(-10 * MINUTE));

    const [paid] = about(
      await ledger.waitFor((rs) => about(rs, 'skypay.payout.paid', cn).length >= 1, 10_000),
      'skypay.payout.paid',
      cn,
    );
    expect(paid?.data).to.include({ origin: 'reconciliation', controlNumber: cn });
    expect(paid?.data).to.deep.include({
      dealTime: paidAt,
      transition: { from: 'uploaded', to: 'paid', kind: 'forward' },
    });
    // minAgeMs: never asked about before it was that old.
    const firstAsk = sim.requests.find((r) => askedIn(r.body).includes(cn));
    expect(firstAsk?.receivedAt).to.be.at.least(uploadedAt + 600);

    // SkyPay's real callback comes late: answered 1000, a duplicate, not relayed again.
    await send(d, cn, '2', paidAt);
    const marker = nextControlNumber('SKMRK');
    await send(d, marker, '1', dealTimeFromNow());
    await ledger.waitFor((rs) => about(rs, 'skypay.payout.upload', marker).length >= 1);
    expect(about(ledger.requests, 'skypay.payout.paid', cn)).to.have.length(1);

    const shown = await runCli(['payout', cn], cliConfig);
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.contain(`payout ${cn} of ${SAMPLE_PARTNER}: paid (final)`);
    expect(shown.stdout).to.match(/paid\s+forward uploaded → paid \(from reconciliation\)\s+evt_\w+\s+1/);
    expect(shown.stdout).to.match(/reconciliation \(SkyPay's status query\)/);
    expect(shown.stdout).to.match(/1 Completed\s+created/);
    // A final payout is not asked about again, while the open marker keeps being asked round after round.
    const asks = sim.requests.filter((r) => askedIn(r.body).includes(cn)).length;
    await waitUntil(
      () => sim.requests.filter((r) => askedIn(r.body).includes(marker)).length >= 2,
      'two rounds asking about the marker',
    );
    expect(sim.requests.filter((r) => askedIn(r.body).includes(cn)).length).to.equal(asks);
  });

  it('records still-open and record-only statuses on the timeline, shown by skyrelay payout and the admin API', async () => {
    const d = await start({ intervalMs: 200, minAgeMs: 1 });
    const [open, inquiry, pending] = [
      nextControlNumber('SKOPN'),
      nextControlNumber('SKINQ'),
      nextControlNumber('SKPND'),
    ];
    sim.set(
      { controlNumber: open, status: '2', statusDesc: 'Uploaded', transactionDate: dealTimeFromNow(-MINUTE) },
      { controlNumber: inquiry, status: 10, statusDesc: 'Inquiry Success', transactionDate: '' },
      { controlNumber: pending, status: '0', statusDesc: 'Pending', transactionDate: '' },
    );
    for (const cn of [open, inquiry, pending]) await send(d, cn, '1', dealTimeFromNow(-MINUTE));
    // Several rounds: each payout asked again and again, the same answer counted on one row.
    await waitUntil(
      () => sim.requests.filter((r) => askedIn(r.body).includes(open)).length >= 3,
      'three rounds asking about the open payout',
    );
    const shown = await runCli(['payout', inquiry], cliConfig);
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.match(/10 Inquiry Success\s+record\s+×\d+ since .*Inquiry Success: recorded only/);
    const res = await fetch(`${d.baseUrl}/admin/payouts/${open}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await res.json()) as { items: { payout: { state: string }; reconciliations: unknown[] }[] };
    const [item] = body.items;
    expect(item?.payout.state).to.equal('uploaded');
    expect(item?.reconciliations).to.have.length(1);
    expect(item?.reconciliations[0]).to.include({ status: 2, outcome: 'open' });
    expect((item?.reconciliations[0] as { checks: number }).checks).to.be.at.least(2);
    const pend = await runCli(['payout', pending, '--json'], cliConfig);
    const [detail] = pend.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reconciliations: { outcome: string; statusDesc: string }[] });
    expect(detail?.reconciliations[0]).to.include({ outcome: 'record', statusDesc: 'Pending' });
    // Nothing was relayed for them beyond their uploads.
    expect(ledger.requests.map(envelope).filter((e) => e.type !== 'skypay.payout.upload')).to.deep.equal([]);
  });

  it('asks 60 open payouts in 2 calls (50, then 10), oldest first, at the first round after start', async () => {
    // Uploaded while the query is off, then a daemon with it on starts: its first round finds all 60 at once.
    const first = await start({ url: undefined, partner: undefined });
    const cns: string[] = [];
    for (let i = 0; i < 60; i++) {
      const cn = nextControlNumber('SKBAT');
      cns.push(cn);
      await send(first, cn, '1', dealTimeFromNow(-MINUTE));
    }
    const dbPath = first.dbPath;
    await first.stop();
    t = undefined;
    await start({ intervalMs: 60_000, minAgeMs: 1 }, dbPath);
    await waitUntil(() => sim.requests.length >= 2, 'two status queries');
    const d = t as unknown as TestDaemon;
    await waitUntil(async () => /skyrelay_status_queries_total\{outcome="ok"\} 2/.test(await metricsOf(d)), 'ok=2');
    expect(sim.requests.map((r) => askedIn(r.body).length)).to.deep.equal([50, 10]);
    expect([...askedIn(sim.requests[0]?.body), ...askedIn(sim.requests[1]?.body)]).to.deep.equal(cns);
    expect(sim.requests.map((r) => r.answered)).to.deep.equal(['1000', '1000']);
  });

  it('counts a timeout, garbage and -9999 by outcome, logs them without the key, and the next interval succeeds', async () => {
    const d = await start({ intervalMs: 250, minAgeMs: 1, timeoutMs: 150 });
    const cn = nextControlNumber('SKERR');
    sim.set({ controlNumber: cn, status: '2', statusDesc: 'Uploaded', transactionDate: dealTimeFromNow() });
    const modes = [
      { mode: { kind: 'slow', delayMs: 400 } as const, outcome: 'timeout' },
      { mode: { kind: 'garbage' } as const, outcome: 'unreadable' },
      { mode: { kind: 'code', code: '-9999', description: 'Service not available' } as const, outcome: 'rejected' },
    ];
    sim.mode = modes[0]?.mode ?? { kind: 'normal' };
    await send(d, cn, '1', dealTimeFromNow(-MINUTE));
    for (const { mode, outcome } of modes) {
      sim.mode = mode;
      const re = new RegExp(`skyrelay_status_queries_total\\{outcome="${outcome}"\\} [1-9]`);
      await waitUntil(async () => re.test(await metricsOf(d)), `outcome ${outcome} in /metrics`);
    }
    // Still nothing on the payout's timeline: failed queries leave it due.
    const before = await runCli(['payout', cn, '--json'], cliConfig);
    expect((JSON.parse(before.stdout) as { reconciliations: unknown[] }).reconciliations).to.deep.equal([]);
    sim.mode = { kind: 'normal' };
    await waitUntil(async () => /skyrelay_status_queries_total\{outcome="ok"\} [1-9]/.test(await metricsOf(d)), 'ok');
    await waitUntil(async () => {
      const shown = await runCli(['payout', cn, '--json'], cliConfig);
      return (JSON.parse(shown.stdout) as { reconciliations: unknown[] }).reconciliations.length > 0;
    }, 'the open answer recorded');
    const logs = d.logs.join('');
    expect(logs).to.match(/status query failed.*"outcome":"timeout"|"outcome":"timeout".*status query failed/);
    expect(logs).to.contain('-9999');
    expect(logs).not.to.contain(SAMPLE_AUTH);
    expect(logs).not.to.contain(SAMPLE_ENCRYPT_KEY);
    expect((await fetch(`${d.baseUrl}/readyz`)).status).to.equal(200);
  });

  it('skyrelay reconcile: --dry-run writes nothing; a real run creates the event and raises a contradiction', async () => {
    // The daemon itself waits an hour before asking: only the CLI asks here.
    const d = await start({ intervalMs: 3_600_000, minAgeMs: 3_600_000 });
    const cliNow = {
      ...cliConfig,
      skypay: {
        ...(cliConfig['skypay'] as object),
        statusQuery: { url: sim.url, partner: SAMPLE_PARTNER, minAgeMs: 1, timeoutMs: 1000 },
      },
    };
    const [missed, paid] = [nextControlNumber('SKCLI'), nextControlNumber('SKCON')];
    await send(d, missed, '1', dealTimeFromNow(-5 * MINUTE));
    await send(d, paid, '1', dealTimeFromNow(-5 * MINUTE));
    await send(d, paid, '2', dealTimeFromNow(-4 * MINUTE));
    const failedAt = dealTimeFromNow(-3 * MINUTE);
    sim.set(
      {
        controlNumber: missed,
        status: '4',
        statusDesc: 'Failed',
        transactionDate: failedAt,
        payTime: '',
        cancelTime: '',
      },
      {
        controlNumber: paid,
        status: '4',
        statusDesc: 'Failed',
        transactionDate: failedAt,
        payTime: '',
        cancelTime: '',
      },
    );

    const dry = await runCli(['reconcile', '--dry-run'], cliNow);
    expect(dry.code, dry.stderr).to.equal(0);
    // The open payout, and the paid one a callback brought, waiting for confirmation: in the same call.
    expect(dry.stdout).to.contain('dry run: asked SkyPay about 2 payout(s) in 1 call(s)');
    expect(dry.stdout).to.match(new RegExp(`${paid}\\s+paid\\s+4 Failed.*would raise payout.anomaly`));
    expect(dry.stdout).to.match(
      new RegExp(`${missed}\\s+uploaded\\s+4 Failed\\s+failed at ${failedAt}.*would create the missed event`),
    );
    const after = await runCli(['payout', missed, '--json'], cliNow);
    const unchanged = JSON.parse(after.stdout) as { payout: { state: string }; reconciliations: unknown[] };
    expect(unchanged.payout.state).to.equal('uploaded');
    expect(unchanged.reconciliations).to.deep.equal([]);

    const run = await runCli(['reconcile', '--control-number', missed, paid], cliNow);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(new RegExp(`${missed}\\s+uploaded\\s+4 Failed.*created the missed event\\s+evt_`));
    expect(run.stdout).to.match(new RegExp(`${paid}\\s+paid\\s+4 Failed.*raised payout.anomaly\\s+evt_`));
    const [failed] = about(
      await ledger.waitFor((rs) => about(rs, 'skypay.payout.failure', missed).length >= 1, 10_000),
      'skypay.payout.failure',
      missed,
    );
    expect(failed?.data).to.include({ origin: 'reconciliation', dealTime: failedAt });
    // SkyPay's real failure callback, with the failDescription the query does not give: a duplicate that completes it.
    await send(d, missed, '4', failedAt, { failDescription: 'account closed' });
    const completed = await runCli(['payout', missed, '--json'], cliNow);
    const [event] = (
      JSON.parse(completed.stdout) as {
        events: { event: Record<string, unknown>; duplicates: number; conflicts: unknown[] }[];
      }
    ).events.filter((e) => e.event['status'] === 'failure');
    expect(event?.event).to.include({ origin: 'reconciliation', failDescription: 'account closed' });
    expect(event?.duplicates).to.equal(1);
    expect(event?.conflicts).to.deep.equal([]);
    const [anomaly] = about(
      await ops.waitFor((rs) => about(rs, 'skyrelay.payout.anomaly', paid).length >= 1, 10_000),
      'skyrelay.payout.anomaly',
      paid,
    );
    // The paid status came by callback and waited for confirmation: SkyPay's failure leaves it unconfirmed.
    expect(anomaly?.data.data).to.include({
      kind: 'unconfirmed',
      skyrelaySays: 'paid',
      queriedStatus: 4,
      confirmation: 'contradicted',
    });
    expect(String(anomaly?.data.data?.['skypaySays'])).to.match(/^failed/);
    expect(JSON.stringify(anomaly)).not.to.contain(SAMPLE_AUTH);

    const json = await runCli(['reconcile', '--dry-run', '--json', '--control-number', paid], cliNow);
    expect(JSON.parse(json.stdout)).to.include({ controlNumber: paid, outcome: 'contradiction', held: 'paid' });
    // Asked again by hand once settled: the contradiction of a final status no longer waiting is kind reconciliation.
    const again = await runCli(['reconcile', '--control-number', paid], cliNow);
    expect(again.code, again.stderr).to.equal(0);
    const kinds = about(
      await ops.waitFor((rs) => about(rs, 'skyrelay.payout.anomaly', paid).length >= 2, 10_000),
      'skyrelay.payout.anomaly',
      paid,
    ).map((e) => e.data.data?.['kind']);
    expect(kinds).to.deep.equal(['unconfirmed', 'reconciliation']);

    sim.mode = { kind: 'code', code: '-9999', description: 'Service not available' };
    const failing = await runCli(['reconcile', '--control-number', missed], cliNow);
    expect(failing.code).to.equal(1);
    expect(failing.stderr).to.match(/status query failed \(rejected\).*-9999/);
    const { skypay: _skypay, ...withoutQuery } = cliConfig;
    const off = await runCli(['reconcile'], withoutQuery);
    expect(off.code).to.equal(1);
    expect(off.stderr).to.match(/skypay\.statusQuery is not configured/);
  });
});

describePostgres('reconciliation once per cluster: two daemons on one PostgreSQL database', function () {
  this.timeout(30_000);

  it('asks about each payout once per interval across both daemons', async () => {
    const sim = await SkyPaySimulator.start(PARTNER);
    const [ledger, ops] = await Promise.all([startReceiver(), startReceiver()]);
    const db = await createTestDatabase();
    const daemons: TestDaemon[] = [];
    try {
      const o = {
        ...overrides(sim, ledger, ops, { intervalMs: 500, minAgeMs: 1 }),
        store: { url: db.url, poolSize: 4 },
      };
      daemons.push(await startTestDaemon(o), await startTestDaemon(o));
      const cns = [nextControlNumber('SKCLU'), nextControlNumber('SKCLU'), nextControlNumber('SKCLU')];
      for (const cn of cns) {
        sim.set({ controlNumber: cn, status: '2', statusDesc: 'Uploaded', transactionDate: dealTimeFromNow() });
        await send(daemons[0] as TestDaemon, cn, '1', dealTimeFromNow(-MINUTE));
      }
      await waitUntil(
        () => cns.every((cn) => sim.requests.filter((r) => askedIn(r.body).includes(cn)).length >= 5),
        'five questions about each payout',
        15_000,
      );
      for (const cn of cns) {
        const times = sim.requests.filter((r) => askedIn(r.body).includes(cn)).map((r) => r.receivedAt);
        const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
        // A round allows a tenth of the interval (50 ms) of slack; the rest is room for a loaded machine. Two daemons
        // asking on their own would ask twice as often, at any phase: gaps far below the interval.
        expect(Math.min(...gaps), `gaps ${gaps.join(', ')}`).to.be.at.least(250);
        const span = (times[times.length - 1] ?? 0) - (times[0] ?? 0);
        expect(times.length, `asks over ${span} ms`).to.be.at.most(Math.floor(span / 450) + 1);
      }
    } finally {
      for (const d of daemons) await d.stop();
      await Promise.all([sim.stop(), ledger.close(), ops.close()]);
      await db.drop();
    }
  });
});
