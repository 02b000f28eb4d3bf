import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { ALL, withStore } from '../../support/store';
import { replies, startReceiver, type Receiver } from '../../support/receiver';
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
import { runCli } from './run-cli';

const SECRET = `whsec_${Buffer.from('cli-terminal-signing-secret-001').toString('base64')}`;
// Clear screen, set the window title (OSC ... BEL), return to column 0 to overwrite, and an 8-bit CSI.
const EVIL = 'Account closed\x1b[2J\x1b]0;owned\x07\rOK\u009b2K\x7f';
// eslint-disable-next-line no-control-regex -- the test looks for raw control characters in the CLI's output
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe("skyrelay CLI: untrusted text on the operator's terminal", function () {
  this.timeout(30_000);
  let t: TestDaemon;
  let hook: Receiver;
  let config: Record<string, unknown>;
  let controlNumber: string;

  before(async () => {
    hook = await startReceiver();
    hook.respondWith(replies.badRequest(`bad hook\x1b[1A\x1b[2K${EVIL}`));
    const overrides = {
      destinations: { hook: { type: 'webhook', url: `${hook.url}/in`, secret: SECRET } },
      rules: [{ name: 'failures', match: { status: 'failure' }, to: ['hook'] }],
      delivery: { pollIntervalMs: 100 },
    };
    t = await startTestDaemon(overrides);
    config = { ...overrides, server: { host: '127.0.0.1', port: t.daemon.address.port }, store: { path: t.dbPath } };
    const body = buildCallback({ payType: '4', failDescription: EVIL, referenceNumber: `REF\x1b[1A\u009b31m` });
    controlNumber = String(body['controlNumber']);
    expect((await postCallback(t.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
    await withStore(t.dbPath, (store) =>
      waitUntil(
        async () => (await store.listDeliveries({ state: 'dead', limit: ALL })).length === 1,
        'the delivery to die',
      ),
    );
  });
  after(async () => {
    await t.stop();
    await hook.close();
  });

  it('show, events and deliveries print escape sequences as visible text, never raw', async () => {
    const [show, events, deliveries] = await Promise.all([
      runCli(['show', controlNumber], config),
      runCli(['events'], config),
      runCli(['deliveries'], config),
    ]);
    for (const r of [show, events, deliveries]) {
      expect(r.code).to.equal(0);
      expect(RAW_CONTROL.test(r.stdout + r.stderr), r.stdout).to.equal(false);
    }
    expect(show.stdout).to.contain('fail description Account closed\\x1b[2J\\x1b]0;owned\\x07\\rOK\\u009b2K\\x7f');
    expect(show.stdout).to.contain('reference        REF\\x1b[1A\\u009b31m');
    expect(show.stdout).to.match(/#1 \S+ dead HTTP 400 in \d+ ms: .*bad hook\\x1b\[1A\\x1b\[2KAccount closed\\x1b\[2J/);
    expect(events.stdout).to.contain(controlNumber);
    expect(deliveries.stdout.split('\n')[1]).to.match(/hook +dead +1 +\S+ +permanent failure, not retried: /);
  });

  it('--json stays valid JSON that gives the exact text back, with no raw control character', async () => {
    const [show, deliveries] = await Promise.all([
      runCli(['show', controlNumber, '--json'], config),
      runCli(['deliveries', '--json'], config),
    ]);
    expect(RAW_CONTROL.test(show.stdout + deliveries.stdout)).to.equal(false);
    const detail = JSON.parse(show.stdout) as {
      event: { failDescription: string };
      deliveries: { lastError: string }[];
    };
    expect(detail.event.failDescription).to.equal(EVIL);
    const [row] = deliveries.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { lastError: string });
    expect(row?.lastError).to.contain('bad hook\x1b[1A\x1b[2KAccount closed\x1b[2J\x1b]0;owned\x07');
  });

  it("test-destination quotes the receiver's answer escaped on stderr", async () => {
    const r = await runCli(['test-destination', 'hook'], config);
    expect(r.code).to.equal(1);
    expect(RAW_CONTROL.test(r.stderr)).to.equal(false);
    expect(r.stderr).to.contain('bad hook\\x1b[1A\\x1b[2K');
  });
});

/** Right-to-left override, isolates and marks: invisible, and they reorder the rest of a terminal line. */
const BIDI = '\u202e\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c';
const RAW_BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const ESCAPED_BIDI = '\\u202e\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c';

describe("skyrelay CLI: bidirectional controls on the operator's terminal (show, reconcile)", function () {
  this.timeout(30_000);
  let t: TestDaemon;
  let sim: SkyPaySimulator;
  let config: Record<string, unknown>;
  const controlNumber = nextControlNumber('SKBID');

  before(async () => {
    sim = await SkyPaySimulator.start({
      userName: SAMPLE_PARTNER,
      authentication: SAMPLE_AUTH,
      encryptKey: SAMPLE_ENCRYPT_KEY,
    });
    const partners = [{ userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH], encryptKeys: [SAMPLE_ENCRYPT_KEY] }];
    t = await startTestDaemon({ skypay: { partners } });
    // Only the CLI asks SkyPay here.
    config = {
      skypay: { partners, statusQuery: { url: sim.url, partner: SAMPLE_PARTNER, minAgeMs: 1, timeoutMs: 2000 } },
      store: { path: t.dbPath },
    };
    const upload = buildCallback({
      controlNumber,
      payType: '1',
      dealTime: dealTimeFromNow(-60_000),
      referenceNumber: `REF${BIDI}gpj.exe`,
    });
    const reply = await postCallback(t.callbackUrl, upload, { encryptKey: SAMPLE_ENCRYPT_KEY });
    expect((decryptReply(reply.text, SAMPLE_ENCRYPT_KEY) as Record<string, unknown>)['responseCode']).to.equal('1000');
    sim.set({
      controlNumber,
      status: '0',
      statusDesc: `Processing${BIDI}gnissecorp`,
      transactionDate: dealTimeFromNow(-60_000),
      payTime: '',
      cancelTime: '',
    });
  });
  after(async () => {
    await t.stop();
    await sim.stop();
  });

  it('show and reconcile print each one as a visible escape, in tables and in --json', async () => {
    const [show, showJson, reconcile, reconcileJson] = await Promise.all([
      runCli(['show', controlNumber], config),
      runCli(['show', controlNumber, '--json'], config),
      runCli(['reconcile', '--dry-run', '--control-number', controlNumber], config),
      runCli(['reconcile', '--dry-run', '--json', '--control-number', controlNumber], config),
    ]);
    for (const r of [show, showJson, reconcile, reconcileJson]) {
      expect(r.code, r.stderr).to.equal(0);
      expect(RAW_BIDI.test(r.stdout + r.stderr), r.stdout).to.equal(false);
    }
    expect(show.stdout).to.contain(`reference        REF${ESCAPED_BIDI}gpj.exe`);
    expect((JSON.parse(showJson.stdout) as { event: { referenceNumber: string } }).event.referenceNumber).to.equal(
      `REF${BIDI}gpj.exe`,
    );
    expect(reconcile.stdout).to.contain(`Processing${ESCAPED_BIDI}gnissecorp`);
    expect((JSON.parse(reconcileJson.stdout) as { statusDesc: string }).statusDesc).to.equal(
      `Processing${BIDI}gnissecorp`,
    );
  });
});
