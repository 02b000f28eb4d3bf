import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { replies, startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import {
  SAMPLE_AUTH,
  SAMPLE_PARTNER,
  buildCallback,
  dealTimeFromNow,
  nextControlNumber,
  postCallback,
} from '../../support/skypay';
import { createTestDatabase, describePostgres } from '../../support/postgres';
import { runCli } from '../cli/run-cli';

const SECRET = `whsec_${Buffer.from('payouts-test-signing-secret-01').toString('base64')}`;
const TOKEN = 'payouts-admin-token-0123456789';
const MINUTE = 60_000;
const REMIT = 'Remit@skypay';
const REMIT_AUTH = 'REMIT-PARTNER-KEY-0000-1111-2222';

interface Envelope {
  type: string;
  data: {
    id: string;
    type: string;
    controlNumber?: string;
    transition?: { from: string | null; to: string; kind: string };
    data?: Record<string, unknown>;
  };
}
const envelope = (r: RecordedRequest): Envelope => r.json as Envelope;
const about = (rs: readonly RecordedRequest[], type: string, cn: string) =>
  rs.map(envelope).filter((e) => e.type === type && (e.data.controlNumber ?? e.data.data?.['controlNumber']) === cn);

interface StoreUnderTest {
  name: string;
  describe: (title: string, fn: (this: Mocha.Suite) => void) => void;
  /** The `store` config section of a fresh store, and how to remove it. */
  open(): Promise<{ store: Record<string, unknown> | undefined; drop(): Promise<void> }>;
}

const STORES: StoreUnderTest[] = [
  { name: 'SQLite', describe, open: () => Promise.resolve({ store: undefined, drop: () => Promise.resolve() }) },
  {
    name: 'PostgreSQL',
    describe: describePostgres,
    async open() {
      const db = await createTestDatabase();
      return { store: { url: db.url, poolSize: 4 }, drop: () => db.drop() };
    },
  },
];

for (const s of STORES)
  s.describe(`payouts through the running daemon on ${s.name} (real HTTP, real receivers)`, function () {
    this.timeout(30_000);
    let dropStore: () => Promise<void> = () => Promise.resolve();
    let t: TestDaemon;
    let ledger: Receiver;
    let ops: Receiver;
    let watch: Receiver;
    let cliConfig: Record<string, unknown>;

    const send = async (
      controlNumber: string,
      payType: string,
      dealTime: string,
      extra: Record<string, unknown> = {},
    ) => {
      const res = await postCallback(t.callbackUrl, buildCallback({ controlNumber, payType, dealTime, ...extra }));
      // SkyPay's rule: 1000 whatever the payout did.
      expect(res.json?.['responseCode'], `payType ${payType}`).to.equal('1000');
    };
    const admin = async (path: string) => {
      const res = await fetch(`${t.baseUrl}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    before(async () => {
      [ledger, ops, watch] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
      for (const r of [ledger, ops, watch]) r.respondWith(replies.ok());
      const hook = (r: Receiver) => ({ type: 'webhook', url: `${r.url}/hook`, secret: SECRET });
      const opened = await s.open();
      dropStore = opened.drop;
      const overrides = {
        ...(opened.store ? { store: opened.store } : {}),
        destinations: { ledger: hook(ledger), ops: hook(ops), watch: hook(watch) },
        rules: [
          { name: 'ledger-feed', to: ['ledger'] },
          { name: 'payout-ops', match: { type: ['payout.anomaly', 'payout.stuck', 'payout.unstuck'] }, to: ['ops'] },
          { name: 'impossible', match: { 'transition.kind': ['after-final', 'conflict'] }, to: ['watch'] },
        ],
        skypay: {
          partners: [
            { userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH] },
            { userName: REMIT, authentication: [REMIT_AUTH] },
          ],
        },
        // 1.5 s for every state, but a day for REMIT's uploads (cash waiting at a counter).
        payouts: { stuckAfterMs: 1_500, stuckAfterByPartner: { [REMIT]: { uploaded: '1d' } }, checkIntervalMs: 200 },
        metrics: { publishIntervalMs: 200 },
        admin: { token: TOKEN },
        delivery: { pollIntervalMs: 100 },
      };
      t = await startTestDaemon(overrides);
      cliConfig = { ...overrides, store: opened.store ?? { path: t.dbPath } };
    });
    after(async () => {
      await t?.stop();
      await Promise.all([ledger.close(), ops.close(), watch.close()]);
      await dropStore();
    });

    it('follows a lifecycle with out-of-order and after-final callbacks; the anomaly reaches ops, plainly worded', async () => {
      const cn = nextControlNumber('SKLIF');
      await send(cn, '1', dealTimeFromNow(-10 * MINUTE));
      await send(cn, '2', dealTimeFromNow(-5 * MINUTE));
      // An amendment older than the paid status: late, nothing moves back.
      await send(cn, '5', dealTimeFromNow(-7 * MINUTE));
      // A failure after paid: a conflict, acknowledged and relayed all the same.
      await send(cn, '4', dealTimeFromNow(-1 * MINUTE), { failDescription: 'closed' });

      const payouts = await ledger.waitFor(
        (rs) => rs.map(envelope).filter((e) => e.data.controlNumber === cn).length >= 4,
      );
      const kinds = payouts
        .map(envelope)
        .filter((e) => e.data.controlNumber === cn)
        .map((e) => [e.type, e.data.transition?.kind, e.data.transition?.to]);
      expect(kinds).to.have.deep.members([
        ['skypay.payout.upload', 'first', 'uploaded'],
        ['skypay.payout.paid', 'forward', 'paid'],
        ['skypay.payout.amendedSuccess', 'late', 'paid'],
        ['skypay.payout.failure', 'conflict', 'paid'],
      ]);

      const [anomaly] = about(
        await ops.waitFor((rs) => about(rs, 'skyrelay.payout.anomaly', cn).length >= 1),
        'skyrelay.payout.anomaly',
        cn,
      );
      expect(anomaly?.data).to.include({ source: 'skyrelay', type: 'payout.anomaly' });
      const data = anomaly?.data.data ?? {};
      expect(data).to.include({
        kind: 'conflict',
        controlNumber: cn,
        partner: 'AppName@skypay',
        state: 'paid',
        payoutStatus: 'failure',
      });
      expect(String(data['reason'])).to.match(/was already paid \(final\).*either a SkyPay error or a forged callback/);
      const history = data['history'] as { status: string; kind: string }[];
      expect(history.map((h) => h.status)).to.deep.equal(['upload', 'amendedSuccess', 'paid', 'failure']);
      expect(JSON.stringify(anomaly)).not.to.contain(SAMPLE_AUTH);

      // The rule on transition.kind took only the impossible callback, not the system event.
      await watch.waitFor((rs) => rs.map(envelope).some((e) => e.data.controlNumber === cn));
      expect(
        watch.requests
          .map(envelope)
          .filter((e) => e.data.controlNumber === cn)
          .map((e) => e.type),
      ).to.deep.equal(['skypay.payout.failure']);
      expect(watch.requests.map(envelope).filter((e) => e.type.startsWith('skyrelay.'))).to.deep.equal([]);
    });

    it('raises payout.stuck once for a payout left uploaded, and payout.unstuck at its final status', async () => {
      const cn = nextControlNumber('SKSTK');
      await send(cn, '1', dealTimeFromNow(-MINUTE));
      const [stuck] = about(
        await ops.waitFor((rs) => about(rs, 'skyrelay.payout.stuck', cn).length >= 1, 10_000),
        'skyrelay.payout.stuck',
        cn,
      );
      expect(stuck?.data.data).to.include({ controlNumber: cn, partner: 'AppName@skypay', state: 'uploaded' });
      expect(Date.parse(String(stuck?.data.data?.['since']))).to.be.lessThan(Date.now());
      expect(String(stuck?.data.data?.['age'])).to.match(/^\d+s$/);

      await send(cn, '2', dealTimeFromNow());
      await ops.waitFor((rs) => about(rs, 'skyrelay.payout.unstuck', cn).length >= 1);
      const [unstuck] = about(ops.requests, 'skyrelay.payout.unstuck', cn);
      expect(unstuck?.data.data).to.include({ state: 'paid', stuckState: 'uploaded' });
      // Several checks ran meanwhile: still one stuck event for that state.
      expect(about(ops.requests, 'skyrelay.payout.stuck', cn)).to.have.length(1);
    });

    it("waits per partner: a partner's uploads with a day's wait are not stuck when the others' are", async () => {
      const remitCn = nextControlNumber('SKRMT');
      const remitRes = await postCallback(
        t.callbackUrl,
        buildCallback({
          userName: REMIT,
          authentication: REMIT_AUTH,
          controlNumber: remitCn,
          payType: '1',
          dealTime: dealTimeFromNow(-MINUTE),
        }),
      );
      expect(remitRes.json?.['responseCode']).to.equal('1000');
      // Stored after REMIT's: by the time it is reported stuck, REMIT's would have been too, on the default wait.
      const cn = nextControlNumber('SKSTK');
      await send(cn, '1', dealTimeFromNow(-MINUTE));
      await ops.waitFor((rs) => about(rs, 'skyrelay.payout.stuck', cn).length >= 1, 10_000);
      expect(about(ops.requests, 'skyrelay.payout.stuck', remitCn)).to.deep.equal([]);
      const [remit] = (await admin(`/admin/payouts/${remitCn}`)).body['items'] as {
        payout: { state: string; stuckState: string | null };
      }[];
      expect(remit?.payout).to.include({ state: 'uploaded', stuckState: null });
    });

    it('shows a payout and lists payouts in the CLI and the admin API, and counts them in /metrics', async () => {
      const cn = nextControlNumber('SKSEE');
      const paidAt = dealTimeFromNow(-2 * MINUTE);
      await send(cn, '1', dealTimeFromNow(-3 * MINUTE));
      await send(cn, '2', paidAt);
      await send(cn, '1', dealTimeFromNow(-MINUTE));
      await send(cn, '2', paidAt); // a duplicate of the paid callback
      const other = nextControlNumber('SKSEE');
      await send(other, '2', dealTimeFromNow(-2 * MINUTE));
      await send(other, '4', dealTimeFromNow(-MINUTE));

      const shown = await runCli(['payout', cn], cliConfig);
      expect(shown.code, shown.stderr).to.equal(0);
      expect(shown.stdout).to.contain(`payout ${cn} of AppName@skypay: paid (final)`);
      expect(shown.stdout).to.match(/anomalies 1/);
      expect(shown.stdout).to.match(/upload\s+first — → uploaded/);
      expect(shown.stdout).to.match(/paid\s+forward uploaded → paid\s+evt_\w+\s+1/);
      expect(shown.stdout).to.match(/upload\s+after-final paid → paid/);
      expect(shown.stdout).to.match(/→ ledger: (pending|inflight|delivered)/);

      const listed = await runCli(['payouts', '--anomalies', '--json'], cliConfig);
      expect(listed.code, listed.stderr).to.equal(0);
      const rows = listed.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { controlNumber: string; anomalies: number });
      expect(rows.find((r) => r.controlNumber === cn)).to.include({ anomalies: 1 });
      const bad = await runCli(['payouts', '--state', 'stuck'], cliConfig);
      expect(bad.code).to.equal(2);
      expect(bad.stderr).to.match(/state: expected one of uploaded, paid/);

      const one = await admin(`/admin/payouts/${cn}`);
      expect(one.status).to.equal(200);
      const items = one.body['items'] as {
        payout: { state: string; anomalies: number };
        events: { event: { transition: { kind: string } } }[];
      }[];
      expect(items[0]?.payout).to.include({ state: 'paid', anomalies: 1 });
      expect(items[0]?.events.map((e) => e.event.transition.kind)).to.deep.equal(['first', 'forward', 'after-final']);
      expect((await admin('/admin/payouts/SKNOSUCH000000')).status).to.equal(404);
      expect((await admin(`/admin/payouts/${cn}?partner=Other@skypay`)).status).to.equal(404);

      const page1 = await admin('/admin/payouts?limit=1');
      expect(page1.body['items']).to.have.length(1);
      const next = String(page1.body['next']);
      expect(next).to.match(/^\/admin\/payouts\?.*cursor=pay_/);
      const page2 = await admin(next);
      expect((page2.body['items'] as { id: string }[])[0]?.id).not.to.equal(
        (page1.body['items'] as { id: string }[])[0]?.id,
      );
      expect((await admin('/admin/payouts?state=done')).status).to.equal(400);
      expect((await fetch(`${t.baseUrl}/admin/payouts`)).status).to.equal(401);

      await waitUntil(
        async () =>
          /skyrelay_payout_anomalies_total\{kind="after-final"\} [1-9]/.test(
            await (await fetch(`${t.baseUrl}/metrics`)).text(),
          ),
        'the anomaly counted in /metrics',
      );
      const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
      expect(metrics).to.match(/skyrelay_payouts\{state="paid"\} [1-9]/);
      expect(metrics).to.match(/skyrelay_payouts\{state="failed"\} 0/);
      expect(metrics).to.match(/skyrelay_payout_anomalies_total\{kind="conflict"\} [1-9]/);
    });
  });
