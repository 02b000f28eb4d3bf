import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { replies, startReceiver, type Receiver } from '../../support/receiver';
import { SAMPLE_PARTNER, buildCallback, dealTimeFromNow, nextControlNumber, postCallback } from '../../support/skypay';
import { runCli } from './run-cli';

const SECRET = `whsec_${Buffer.from('cli-agree-signing-secret-000001').toString('base64')}`;

/** What the CLI shows where the dashboard and the admin API show the same thing. */
describe('skyrelay CLI says what the dashboard says', function () {
  this.timeout(30_000);
  let t: TestDaemon;
  let hook: Receiver;
  let config: Record<string, unknown>;

  before(async () => {
    hook = await startReceiver();
    const overrides = {
      destinations: { hook: { type: 'webhook', url: `${hook.url}/in`, secret: SECRET } },
      rules: [
        { name: 'feed', to: ['hook'] },
        { name: 'anomalies', match: { type: 'payout.anomaly' }, to: ['hook'] },
      ],
      delivery: { pollIntervalMs: 100 },
    };
    t = await startTestDaemon(overrides);
    config = { ...overrides, server: { host: '127.0.0.1', port: t.daemon.address.port }, store: { path: t.dbPath } };
  });
  after(async () => {
    await t.stop();
    await hook.close();
  });
  beforeEach(() => hook.respondWith(replies.ok()));

  /** Posts a callback and waits until its deliveries are done; returns the event id. */
  async function callback(overrides: Record<string, unknown>): Promise<string> {
    const body = buildCallback({ dealTime: dealTimeFromNow(), ...overrides });
    const res = await postCallback(t.callbackUrl, body);
    expect(res.json?.['responseCode'], res.text).to.equal('1000');
    let id = '';
    await waitUntil(async () => {
      const [e] = await t.daemon.store.listEvents({ controlNumber: String(body['controlNumber']), limit: 1 });
      id = e?.id ?? '';
      return e !== undefined && e.deliveries.pending + e.deliveries.inflight === 0;
    }, 'the callback delivered or dead');
    return id;
  }

  it('events: a payout.anomaly row names its control number and partner, not a dash', async () => {
    const controlNumber = nextControlNumber();
    await callback({ controlNumber, payType: '2', dealTime: dealTimeFromNow(-60_000) });
    await callback({ controlNumber, payType: '4' });
    const r = await runCli(['events', '--type', 'payout.anomaly'], config);
    expect(r.code, r.stderr).to.equal(0);
    const row = r.stdout.split('\n').find((l) => l.includes(controlNumber));
    expect(row, r.stdout).to.match(new RegExp(`payout\\.anomaly +${controlNumber} +${SAMPLE_PARTNER} `));
  });

  it('show: an empty failDescription reads "—", as in the dashboard, Slack and mail', async () => {
    const controlNumber = nextControlNumber();
    await callback({ controlNumber, payType: '4', failDescription: '' });
    const r = await runCli(['show', controlNumber], config);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/\n {2}fail description —\n/);
  });

  it('show: a replayed delivery numbers its attempts through and counts them all, and those since the replay', async () => {
    hook.respondWith(replies.badRequest('no such account'));
    const controlNumber = nextControlNumber();
    const eventId = await callback({ controlNumber, payType: '2' });
    const dead = (await t.daemon.store.listDeliveries({ state: 'dead', limit: 50 })).find((d) => d.eventId === eventId);
    expect(dead, 'a dead delivery').not.to.equal(undefined);
    hook.respondWith(replies.ok());
    const replay = await runCli(['replay', dead?.id ?? ''], config);
    expect(replay.code, replay.stderr).to.equal(0);
    await waitUntil(
      async () => (await t.daemon.store.getEvent(eventId))?.deliveries[0]?.state === 'delivered',
      'the replayed delivery delivered',
    );
    const r = await runCli(['show', eventId], config);
    expect(r.stdout).to.contain(
      `delivery ${dead?.id ?? ''} → hook: delivered, 2 attempts, 1 since it was last replayed`,
    );
    expect(r.stdout).to.match(
      /\n {4}#1 \S+ dead HTTP 400 in \d+ ms: .*\n {4}\(replayed\)\n {4}#2 \S+ delivered HTTP 200/,
    );
  });
});
