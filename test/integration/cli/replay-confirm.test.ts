import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { ALL } from '../../support/store';
import type { Store } from '../../../src/store';
import { startReceiver, type Receiver } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';
import { runCli, runCliOnTty } from './run-cli';

const SECRET = `whsec_${Buffer.from('cli-replay-confirm-secret-00001').toString('base64')}`;

describe('skyrelay replay --delivered: a filter and a confirmation', function () {
  this.timeout(30_000);
  let t: TestDaemon;
  let hook: Receiver;
  let config: Record<string, unknown>;
  /** The daemon's own store: the interface the CLI reads too. */
  let store: Store;
  const pending = async () =>
    (await store.listDeliveries({ state: 'pending', limit: ALL })).length +
    (await store.listDeliveries({ state: 'inflight', limit: ALL })).length;
  // Each test starts from two delivered deliveries and nothing queued, whatever ran before it.
  const settled = () => waitUntil(async () => (await pending()) === 0, 'nothing queued');

  before(async () => {
    hook = await startReceiver();
    const overrides = {
      destinations: { hook: { type: 'webhook', url: `${hook.url}/in`, secret: SECRET } },
      rules: [{ name: 'feed', to: ['hook'] }],
      delivery: { pollIntervalMs: 100 },
    };
    t = await startTestDaemon(overrides);
    config = { ...overrides, server: { host: '127.0.0.1', port: t.daemon.address.port }, store: { path: t.dbPath } };
    store = t.daemon.store;
    for (let i = 0; i < 2; i++) await postCallback(t.callbackUrl, buildCallback({ payType: '2' }));
    await hook.waitFor(2);
  });
  after(async () => {
    await t.stop();
    await hook.close();
  });

  it('needs --since or --destination (usage, exit 2), and refuses without a terminal or --yes (exit 1)', async () => {
    await settled();
    const sent = hook.requests.length;
    const [bare, noTty] = await Promise.all([
      runCli(['replay', '--delivered'], config),
      runCli(['replay', '--delivered', '--since', '1h'], config),
    ]);
    expect(bare.code).to.equal(2);
    expect(bare.stderr).to.contain('--delivered needs --since or --destination');
    expect(noTty.code).to.equal(1);
    expect(noTty.stderr).to.contain('2 delivered deliveries would be sent again; no terminal to ask on: add --yes');
    expect(await pending()).to.equal(0);
    expect(hook.requests).to.have.length(sent);
  });

  it('asks "requeue N deliveries? [y/N]" on a terminal: no leaves them, y requeues them', async () => {
    await settled();
    const sent = hook.requests.length;
    const declined = await runCliOnTty(['replay', '--delivered', '--since', '1h'], config, '[y/N]', 'n');
    expect(declined.stdout).to.contain('requeue 2 deliveries? [y/N]');
    expect(declined.stdout).to.contain('not confirmed: nothing was replayed');
    expect(declined.code).to.equal(1);
    expect(await pending()).to.equal(0);
    const accepted = await runCliOnTty(['replay', '--delivered', '--destination', 'hook'], config, '[y/N]', 'y');
    expect(accepted.code, accepted.stdout).to.equal(0);
    expect(accepted.stdout).to.contain('2 deliveries queued');
    await hook.waitFor(sent + 2);
  });

  it('--yes replays without asking, for scripts', async () => {
    await settled();
    const sent = hook.requests.length;
    const r = await runCli(['replay', '--delivered', '--since', '1h', '--yes'], config);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/requeued dlv_\w+\nrequeued dlv_\w+\n2 deliveries queued/);
    await hook.waitFor(sent + 2);
  });

  it('names an unknown --destination and exits 1', async () => {
    const [dead, delivered] = await Promise.all([
      runCli(['replay', '--dead', '--destination', 'nope'], config),
      runCli(['replay', '--delivered', '--destination', 'nope', '--yes'], config),
    ]);
    for (const r of [dead, delivered]) {
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain('no destination "nope" in the configuration (configured: hook)');
    }
  });
});
