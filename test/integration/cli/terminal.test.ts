import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { ALL, withStore } from '../../support/store';
import { replies, startReceiver, type Receiver } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';
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
