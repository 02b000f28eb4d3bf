import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { replies, startReceiver, type Receiver } from '../../support/receiver';
import { SAMPLE_AUTH, buildCallback, postCallback } from '../../support/skypay';
import { runCli } from './run-cli';

const TOKEN = 'cli-admin-token-0123456789abcdef';
const SECRET = `whsec_${Buffer.from('cli-inspect-signing-secret-0001').toString('base64')}`;

describe('skyrelay CLI: config check, events, show, deliveries, usage', function () {
  this.timeout(30_000);
  let t: TestDaemon;
  let hook: Receiver;
  let config: Record<string, unknown>;
  const control: string[] = [];

  before(async () => {
    hook = await startReceiver();
    hook.respondWith(replies.badRequest('no_service'));
    const overrides = {
      admin: { token: TOKEN },
      destinations: { hook: { type: 'webhook', url: `${hook.url}/in/private-path-token`, secret: SECRET } },
      rules: [
        { name: 'failures', match: { status: ['failure', 'amendedFailure'] }, to: ['hook'] },
        { name: 'alerts', match: { source: 'skyrelay', type: 'rejection' }, to: ['hook'] },
        { name: 'anomalies', match: { type: 'payout.anomaly' }, to: ['hook'] },
        { name: 'recharges', match: { type: ['skypay.finance.recharge', 'skyrelay.payout.stuck'] }, to: ['hook'] },
      ],
    };
    t = await startTestDaemon(overrides);
    config = { ...overrides, server: { host: '127.0.0.1', port: t.daemon.address.port }, store: { path: t.dbPath } };
    for (const payType of ['2', '4']) {
      const body = buildCallback({ payType });
      control.push(String(body['controlNumber']));
      await postCallback(t.callbackUrl, body);
    }
    await hook.waitFor(1);
  });
  after(async () => {
    await t.stop();
    await hook.close();
  });

  it('config check: valid, keys and URLs masked, and the event types each rule receives, skyrelay events included', async () => {
    const r = await runCli(['config', 'check'], config);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('configuration is valid');
    expect(r.stdout).to.match(/AppName@skypay {2}authentication 1 key \(fingerprint [0-9a-f]{8}\)/);
    expect(r.stdout).to.match(
      /failures → hook\n.*\n {4}receives: skypay\.payout\.failure, skypay\.payout\.amendedFailure\n/,
    );
    expect(r.stdout).to.match(/alerts → hook\n.*\n {4}receives: skyrelay\.rejection\n/);
    expect(r.stdout).to.match(/anomalies → hook\n.*\n {4}receives: skyrelay\.payout\.anomaly\n/);
    expect(r.stdout).to.match(
      /recharges → hook\n.*\n {4}receives: skypay\.finance\.recharge, skyrelay\.payout\.stuck\n/,
    );
    expect(r.stdout).not.to.contain('warnings:');
    expect(r.stdout).to.contain('admin API:   enabled (token set)');
    for (const secret of [SAMPLE_AUTH, SECRET, 'private-path-token', TOKEN])
      expect(r.stdout + r.stderr).not.to.contain(secret);
  });

  it('config check: exit 1 naming the key when the configuration is invalid', async () => {
    const r = await runCli(['config', 'check'], { ...config, server: { port: 'eighty' } });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/invalid configuration:\n {2}- server\.port: .*integer/);
  });

  it('events: a newest-first table, JSON lines, and filters', async () => {
    const table = await runCli(['events'], config);
    expect(table.code).to.equal(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).to.match(/^RECEIVED +ID +WHAT +CONTROL NUMBER/);
    expect(lines[1]).to.contain(control[1]).and.contain('failure').and.contain('1 dead');
    expect(lines[2]).to.contain(control[0]).and.contain('paid').and.contain('none');
    const json = await runCli(['events', '--status', '4', '--since', '1h', '--json'], config);
    const rows = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((e) => e['controlNumber'])).to.deep.equal([control[1]]);
  });

  it('show: an event by control number with its deliveries and every attempt; exit 1 when nothing matches', async () => {
    const r = await runCli(['show', control[1] ?? ''], config);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^event evt_\w+: payout failure \(payType 4\)/);
    expect(r.stdout).to.match(/delivery dlv_\w+ → hook: dead, 1 attempt, rules failures/);
    expect(r.stdout).to.match(/#1 \S+ dead HTTP 400 in \d+ ms: permanent failure/);
    expect(r.stdout).not.to.contain(SAMPLE_AUTH);
    const missing = await runCli(['show', 'SK00000000000'], config);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.contain('no event with id or control number "SK00000000000"');
  });

  it('deliveries: filtered by state and destination, as a table or JSON', async () => {
    await waitUntil(
      async () =>
        (await runCli(['deliveries', '--state', 'dead', '--json'], config)).stdout.trim().split('\n').length === 1,
      'one dead delivery',
    );
    const r = await runCli(['deliveries', '--state', 'dead', '--destination', 'hook'], config);
    expect(r.stdout.split('\n')[1]).to.match(/dlv_\w+ +hook +dead +1 +\S+ +permanent failure/);
    expect((await runCli(['deliveries', '--destination', 'nowhere'], config)).stdout).to.equal('no deliveries match\n');
  });

  it('exit 2 for usage errors, 0 for help', async () => {
    const [none, unknownCmd, badFlag, badValue, help] = await Promise.all([
      runCli([], config),
      runCli(['frobnicate'], config),
      runCli(['events', '--colour'], config),
      runCli(['deliveries', '--state', 'stuck'], config),
      runCli(['replay', '--help'], config),
    ]);
    expect([none.code, unknownCmd.code, badFlag.code, badValue.code, help.code]).to.deep.equal([2, 2, 2, 2, 0]);
    expect(badFlag.stderr).to.contain("unknown option '--colour'");
    expect(badValue.stderr).to.contain('state: expected one of pending, inflight, delivered, dead (got "stuck")');
    expect(help.stdout).to.contain('Usage: skyrelay replay [options] [deliveryIds...]');
  });
});
