/**
 * The spliced AES-ECB forgery, end to end on each store: a captured upload's ciphertext with its payType block
 * swapped for a captured paid callback's is a valid "paid" (AES-ECB has no integrity). skyrelay answers it 1000 and
 * relays it (SkyPay's rule), flags it at once (same-time), and SkyPay's status query, asked once the status is
 * minAgeMs old, contradicts it (unconfirmed); a genuine paid is confirmed. Then what reconciliation does with
 * answers it must not trust: dated in 2099, 10 KB descriptions, a 900 KB error description.
 */
import { expect } from 'chai';
import type { PayoutEvent, SystemEvent } from '../../../src/event';
import type { PayoutDetail } from '../../../src/store/types';
import type { PayoutView } from '../../../src/payouts/types';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { createTestDatabase, describePostgres } from '../../support/postgres';
import { replies, startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import {
  SAMPLE_AUTH,
  SAMPLE_ENCRYPT_KEY,
  buildCallback,
  dealTimeFromNow,
  decryptReply,
  encryptCallback,
  nextControlNumber,
  postCallback,
} from '../../support/skypay';
import { SkyPaySimulator } from '../../support/skypay-simulator';
import { runCli } from '../cli/run-cli';

const SECRET = `whsec_${Buffer.from('confirmation-test-signing-secret').toString('base64')}`;
const TOKEN = 'confirmation-admin-token-0123456789';
const MINUTE = 60_000;
/**
 * 15 characters, with 15-character control numbers: the plain JSON puts the payType's value at byte 160, the
 * start of an AES block, so the block `1","dealTime":"2` can be swapped whole. An attacker picks captured
 * callbacks whose layout lines up; the test picks a partner whose layout does.
 */
const PARTNER = 'AppNames@skypay';
const SIM_PARTNER = { userName: PARTNER, authentication: SAMPLE_AUTH, encryptKey: SAMPLE_ENCRYPT_KEY };
/** How long a final status waits before SkyPay is asked about it (SkyPay's 300 s, shortened). */
const MIN_AGE_MS = 1_000;

interface Envelope {
  type: string;
  data: Record<string, unknown> & { data?: Record<string, unknown> };
}
const envelope = (r: RecordedRequest): Envelope => r.json as Envelope;
/** A webhook's event about `cn`: a payout status (data.controlNumber) or skyrelay's own (data.data.controlNumber). */
const about = (rs: readonly RecordedRequest[], type: string, cn: string): Envelope[] =>
  rs.map(envelope).filter((e) => e.type === type && (e.data['controlNumber'] ?? e.data.data?.['controlNumber']) === cn);
const askedIn = (body: Record<string, unknown> | undefined): string[] =>
  ((body?.['controlNumbers'] ?? []) as { controlNumber: string }[]).map((c) => c.controlNumber);

/** The plain JSON of a callback as SkyPay sends it, and its ciphertext: what a wire-tapper captures. */
function capture(controlNumber: string, payType: string, dealTime: string): { plain: string; cipher: string } {
  const body = buildCallback({ userName: PARTNER, controlNumber, payType, dealTime });
  return { plain: JSON.stringify(body), cipher: encryptCallback(body, SAMPLE_ENCRYPT_KEY) };
}

/**
 * The attack: the upload's ciphertext with its 16-byte block `1","dealTime":"2` replaced by the same block of the
 * paid callback (`2","dealTime":"2`). Nothing else changes, so it decrypts to the upload with payType 2.
 */
function splice(upload: { plain: string; cipher: string }, paid: { plain: string; cipher: string }): string {
  const at = upload.plain.indexOf('1","dealTime":"2');
  expect(at % 16, 'the payType block starts an AES block').to.equal(0);
  expect(paid.plain.indexOf('2","dealTime":"2')).to.equal(at);
  const forged = Buffer.from(upload.cipher, 'base64');
  Buffer.from(paid.cipher, 'base64').copy(forged, at, at, at + 16);
  return forged.toString('base64');
}

async function post(t: TestDaemon, raw: string): Promise<void> {
  const res = await postCallback(t.callbackUrl, undefined, { raw, contentType: 'text/plain' });
  const reply = decryptReply(res.text, SAMPLE_ENCRYPT_KEY) as Record<string, unknown>;
  expect(reply['responseCode'], res.text).to.equal('1000');
}

const STORES = [
  {
    name: 'SQLite',
    describe: describe as typeof describePostgres,
    open: () => Promise.resolve({ overrides: {}, drop: () => Promise.resolve() }),
  },
  {
    name: 'PostgreSQL',
    describe: describePostgres,
    open: async () => {
      const db = await createTestDatabase();
      return { overrides: { store: { url: db.url, poolSize: 4 } }, drop: () => db.drop() };
    },
  },
];

for (const store of STORES) {
  store.describe(`confirmation of final statuses by SkyPay's status query (${store.name})`, function () {
    this.timeout(40_000);
    let sim: SkyPaySimulator;
    let ledger: Receiver;
    let ops: Receiver;
    let t: TestDaemon | undefined;
    let drop: () => Promise<void> = () => Promise.resolve();
    let cliConfig: Record<string, unknown> = {};

    beforeEach(async () => {
      sim = await SkyPaySimulator.start(SIM_PARTNER);
      [ledger, ops] = await Promise.all([startReceiver(), startReceiver()]);
      for (const r of [ledger, ops]) r.respondWith(replies.ok());
    });
    afterEach(async () => {
      await t?.stop();
      t = undefined;
      await Promise.all([sim.stop(), ledger.close(), ops.close()]);
      await drop();
    });

    async function start(skypay: Record<string, unknown>, statusQuery: Record<string, unknown>): Promise<TestDaemon> {
      const opened = await store.open();
      drop = opened.drop;
      const hook = (r: Receiver) => ({ type: 'webhook', url: `${r.url}/hook`, secret: SECRET });
      const overrides = {
        ...opened.overrides,
        skypay: {
          partners: [{ userName: PARTNER, authentication: [SAMPLE_AUTH], encryptKeys: [SAMPLE_ENCRYPT_KEY] }],
          statusQuery: { url: sim.url, partner: PARTNER, timeoutMs: 2000, ...statusQuery },
          ...skypay,
        },
        destinations: { ledger: hook(ledger), ops: hook(ops) },
        rules: [
          { name: 'ledger-feed', match: { source: 'skypay' }, to: ['ledger'] },
          // What a consumer that releases money waits for, routed by the rule field.
          {
            name: 'ledger-confirmed',
            match: { type: 'payout.confirmed', 'payout.confirmation': 'confirmed' },
            to: ['ledger'],
          },
          // Forgeries to a human, by the anomaly's kind.
          { name: 'forgeries', match: { type: 'payout.anomaly', kind: ['same-time', 'unconfirmed'] }, to: ['ops'] },
          { name: 'answers', match: { type: 'payout.anomaly', kind: 'out-of-window' }, to: ['ops'] },
        ],
        admin: { token: TOKEN },
        metrics: { publishIntervalMs: 100 },
        delivery: { pollIntervalMs: 100 },
      };
      t = await startTestDaemon(overrides);
      const onPostgres = (opened.overrides as { store?: Record<string, unknown> }).store ?? {};
      cliConfig = { ...overrides, store: { path: t.dbPath, ...onPostgres } };
      return t;
    }

    const admin = async <T>(d: TestDaemon, path: string): Promise<T> => {
      const res = await fetch(`${d.baseUrl}/admin${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status, path).to.equal(200);
      return (await res.json()) as T;
    };
    const payoutOf = async (d: TestDaemon, cn: string): Promise<PayoutDetail> => {
      const { items } = await admin<{ items: PayoutDetail[] }>(d, `/payouts/${cn}`);
      expect(items).to.have.length(1);
      return items[0] as PayoutDetail;
    };

    it('a spliced paid: relayed, flagged same-time at once, contradicted by the status query; a genuine paid is confirmed', async () => {
      const d = await start({}, { intervalMs: 300, minAgeMs: MIN_AGE_MS });
      const [genuine, victim] = [nextControlNumber('SKGEN'), nextControlNumber('SKVIC')];
      // A genuine payout, uploaded then paid: SkyPay's query says Completed. Its paid callback is captured.
      const paidAt = dealTimeFromNow(-5 * MINUTE);
      await post(d, capture(genuine, '1', dealTimeFromNow(-10 * MINUTE)).cipher);
      const paid = capture(genuine, '2', paidAt);
      await post(d, paid.cipher);
      sim.set({ controlNumber: genuine, status: '1', statusDesc: 'Completed', payTime: paidAt, cancelTime: '' });
      // The victim is uploaded, and stays so at SkyPay. Its upload is captured too.
      const uploadedAt = dealTimeFromNow(-3 * MINUTE);
      const upload = capture(victim, '1', uploadedAt);
      await post(d, upload.cipher);
      sim.set({ controlNumber: victim, status: '2', statusDesc: 'Uploaded', transactionDate: uploadedAt, payTime: '' });

      const forged = splice(upload, paid);
      const forgedAt = Date.now();
      await post(d, forged);

      // Answered and relayed as paid with the upload's exact dealTime, as SkyPay's callbacks must be...
      const [relayed] = about(
        await ledger.waitFor((rs) => about(rs, 'skypay.payout.paid', victim).length > 0, 10_000),
        'skypay.payout.paid',
        victim,
      );
      expect(relayed?.data).to.deep.include({
        dealTime: uploadedAt,
        transition: { from: 'uploaded', to: 'paid', kind: 'forward' },
        confirmation: 'pending',
      });
      // ...and flagged in the transaction that stored it: the anomaly is there as soon as the callback is answered.
      const stored = await d.daemon.store.listEvents({ type: 'payout.anomaly', limit: 10 });
      const flagged = await Promise.all(stored.map((e) => d.daemon.store.getEvent(e.id)));
      const sameTime = flagged.map((e) => e?.event as SystemEvent).filter((e) => e.data['controlNumber'] === victim);
      expect(sameTime.map((e) => e.data['kind'])).to.deep.equal(['same-time']);
      expect(sameTime[0]?.data).to.include({ previousStatus: 'upload', dealTime: uploadedAt, confirmation: 'pending' });
      expect(String(sameTime[0]?.data['reason'])).to.match(/does not move in 0 seconds often.*spliced forgery/);
      expect((await payoutOf(d, victim)).payout).to.include({ state: 'paid', confirmation: 'pending', anomalies: 1 });

      // SkyPay is asked once the status is minAgeMs old, and says the victim is still uploaded.
      const [unconfirmed] = about(
        await ops.waitFor(
          (rs) => about(rs, 'skyrelay.payout.anomaly', victim).some((e) => e.data.data?.['kind'] === 'unconfirmed'),
          15_000,
        ),
        'skyrelay.payout.anomaly',
        victim,
      ).filter((e) => e.data.data?.['kind'] === 'unconfirmed');
      expect(unconfirmed?.data.data).to.include({
        kind: 'unconfirmed',
        partner: PARTNER,
        state: 'paid',
        skyrelaySays: 'paid',
        confirmation: 'contradicted',
        queriedStatus: 2,
        eventId: relayed?.data['id'],
      });
      expect(String(unconfirmed?.data.data?.['skypaySays'])).to.match(/^still open/);
      expect(about(ops.requests, 'skyrelay.payout.anomaly', victim).map((e) => e.data.data?.['kind'])).to.include(
        'same-time',
      );

      // The genuine paid: confirmed, with the event a consumer waited on.
      const [confirmed] = about(
        await ledger.waitFor((rs) => about(rs, 'skyrelay.payout.confirmed', genuine).length > 0, 15_000),
        'skyrelay.payout.confirmed',
        genuine,
      );
      const genuineDetail = await payoutOf(d, genuine);
      const genuinePaid = genuineDetail.events.find((e) => (e.event as PayoutEvent).status === 'paid');
      expect(confirmed?.data.data).to.include({
        state: 'paid',
        confirmation: 'confirmed',
        eventId: genuinePaid?.event.id,
        dealTime: paidAt,
      });
      expect(genuineDetail.payout).to.include({ confirmation: 'confirmed', anomalies: 0 });
      expect(genuineDetail.reconciliations.map((r) => r.outcome)).to.include('confirmed');

      const victimDetail = await payoutOf(d, victim);
      expect(victimDetail.payout).to.include({ state: 'paid', confirmation: 'contradicted', anomalies: 2 });
      const contradiction = victimDetail.reconciliations.find((r) => r.outcome === 'contradiction');
      // Asked only once the paid status was minAgeMs old.
      expect(Date.parse(contradiction?.firstCheckedAt ?? '')).to.be.at.least(
        Date.parse(victimDetail.payout.stateSince) + MIN_AGE_MS,
      );
      expect(Date.parse(victimDetail.payout.stateSince)).to.be.at.least(forgedAt);
      const contradicted = await admin<{ items: PayoutView[] }>(d, '/payouts?confirmation=contradicted');
      expect(contradicted.items.map((p) => p.controlNumber)).to.deep.equal([victim]);
      // Nothing confirms the forgery.
      expect(about(ledger.requests, 'skyrelay.payout.confirmed', victim)).to.deep.equal([]);
      await waitUntil(async () => {
        const metrics = await (await fetch(`${d.baseUrl}/metrics`)).text();
        return (
          /skyrelay_payout_anomalies_total\{kind="same-time"\} 1\b/.test(metrics) &&
          /skyrelay_payout_anomalies_total\{kind="unconfirmed"\} 1\b/.test(metrics)
        );
      }, 'one same-time and one unconfirmed anomaly in /metrics');

      const shown = await runCli(['payout', victim], cliConfig);
      expect(shown.code, shown.stderr).to.equal(0);
      expect(shown.stdout).to.match(/confirmation contradicted: SkyPay's status query says otherwise/);
      expect(shown.stdout).to.match(/2 Uploaded\s+contradiction/);
      const show = await runCli(['show', genuine], cliConfig);
      expect(show.stdout).to.match(
        /confirmation\s+confirmed: SkyPay's status query says the same final status \(pending when stored\)/,
      );
      const listed = await runCli(['payouts', '--confirmation', 'confirmed'], cliConfig);
      expect(listed.stdout).to.contain(genuine);
      expect(listed.stdout).not.to.contain(victim);
    });

    it('an answer dated 2099 creates no event but one anomaly; descriptions are kept and logged cut and escaped', async () => {
      const d = await start({ maxAgeDays: 30, maxFutureMinutes: 10 }, { intervalMs: 250, minAgeMs: 1 });
      const [future, wordy] = [nextControlNumber('SKFUT'), nextControlNumber('SKWRD')];
      // 10 KB of description, with a terminal escape and a forged log line in it.
      const long = `Failed\u001b[2J\n{"level":"error","msg":"forged"}${'x'.repeat(10_240)}`;
      sim.set(
        { controlNumber: future, status: '4', statusDesc: 'Failed', transactionDate: '2099-12-31 23:59:59' },
        { controlNumber: wordy, status: '2', statusDesc: long, transactionDate: dealTimeFromNow(-MINUTE) },
      );
      await post(d, capture(future, '1', dealTimeFromNow(-MINUTE)).cipher);
      await post(d, capture(wordy, '1', dealTimeFromNow(-MINUTE)).cipher);
      // Round after round asks about both.
      await waitUntil(
        () => sim.requests.filter((r) => askedIn(r.body).includes(future)).length >= 3,
        'three rounds asking about the payout dated 2099',
      );
      const detail = await payoutOf(d, future);
      expect(detail.payout).to.include({ state: 'uploaded', confirmation: 'off' });
      expect(detail.events.map((e) => (e.event as PayoutEvent).status)).to.deep.equal(['upload']);
      const [row, ...more] = detail.reconciliations;
      expect(more).to.deep.equal([]);
      expect(row).to.include({ outcome: 'out-of-window', status: 4 });
      expect(row?.checks).to.be.at.least(2);
      expect(row?.detail).to.match(/transactionDate 2099-12-31 23:59:59 is more than 10 minutes in the future/);
      // One anomaly for the answer, however often it is given; no failure event dated 2099 anywhere.
      const anomalies = about(
        await ops.waitFor((rs) => about(rs, 'skyrelay.payout.anomaly', future).length > 0),
        'skyrelay.payout.anomaly',
        future,
      );
      expect(anomalies.map((e) => e.data.data?.['kind'])).to.deep.equal(['out-of-window']);
      expect(anomalies[0]?.data.data).to.include({ state: 'uploaded', queriedStatus: 4 });
      expect(about(ledger.requests, 'skypay.payout.failure', future)).to.deep.equal([]);

      const [kept] = (await payoutOf(d, wordy)).reconciliations;
      expect(kept?.statusDesc.length).to.be.at.most(256);
      expect(kept?.statusDesc).to.match(/^Failed\\x1b\[2J\\n\{"level":"error"/);
      expect(kept?.statusDesc).to.match(/… \(10\d{3} characters\)$/);
      expect([...(kept?.statusDesc ?? '')].some((c) => c.charCodeAt(0) < 0x20)).to.equal(false);

      // A 900 KB error description, plain JSON as a gateway may send it: logged cut, round after round.
      const logsBefore = d.logs.length;
      sim.mode = {
        kind: 'code',
        code: '-9999',
        description: `Service\u001b[31m down ${'y'.repeat(900 * 1024)}`,
        plain: true,
      };
      const rejected = /skyrelay_status_queries_total\{outcome="rejected"\} [2-9]/;
      await waitUntil(
        async () => rejected.test(await (await fetch(`${d.baseUrl}/metrics`)).text()),
        'two -9999 rounds',
      );
      const failures = d.logs.slice(logsBefore).filter((l) => l.includes('-9999'));
      expect(failures.length).to.be.at.least(2);
      for (const line of failures) {
        expect(line.length).to.be.below(1024);
        expect(line).to.contain('Service\\\\x1b[31m down yyy');
        expect(line).not.to.contain('\u001b');
      }
    });
  });
}
