import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { ALL, withStore } from '../../support/store';
import { replies, startReceiver, type RecordedRequest, type Receiver } from '../../support/receiver';
import { SAMPLE_AUTH, buildCallback, postCallback } from '../../support/skypay';

const SECRET = `whsec_${Buffer.from('alerts-test-signing-secret-0001').toString('base64')}`;

interface Envelope {
  type: string;
  data: { type: string; data: Record<string, unknown> };
}
const envelope = (r: RecordedRequest): Envelope => r.json as Envelope;
const ofType = (requests: readonly RecordedRequest[], type: string) =>
  requests.filter((r) => envelope(r).type === type);

describe('alerts about skyrelay itself (real daemon, real receivers)', function () {
  this.timeout(20_000);
  let t: TestDaemon;
  let ops: Receiver;
  let ledger: Receiver;
  let broken: Receiver;

  before(async () => {
    [ops, ledger, broken] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    broken.respondWith(replies.badRequest('no_such_channel'));
    const hook = (r: Receiver) => ({ type: 'webhook', url: `${r.url}/hook`, secret: SECRET });
    t = await startTestDaemon({
      destinations: { ops: hook(ops), ledger: hook(ledger), broken: hook(broken) },
      rules: [
        { name: 'ledger-feed', to: ['ledger'] },
        { name: 'ops-rejections', match: { type: 'rejection' }, to: ['ops'] },
        { name: 'failures', match: { status: 'failure' }, to: ['broken'] },
        { name: 'dead-deliveries', match: { type: 'delivery.dead' }, to: ['ops', 'broken'] },
      ],
      alerts: { rejectionWindowMs: 800 },
      delivery: { pollIntervalMs: 100, maxAttempts: 2, initialBackoffMs: 20, maxBackoffMs: 50 },
    });
  });
  after(async () => {
    await t.stop();
    await Promise.all([ops.close(), ledger.close(), broken.close()]);
  });

  it('turns a refused callback into a rejection event for the rules that ask, without the key', async () => {
    const res = await postCallback(t.callbackUrl, buildCallback({ authentication: 'WRONG-KEY-0000' }));
    expect(res.status).to.equal(401);
    const [alert] = ofType(
      await ops.waitFor((rs) => ofType(rs, 'skyrelay.rejection').length >= 1),
      'skyrelay.rejection',
    );
    const data = alert ? envelope(alert).data.data : {};
    expect(data).to.include({
      reason: 'unauthenticated',
      status: 401,
      partner: 'AppName@skypay',
      method: 'POST',
      path: '/callbacks/skypay',
    });
    expect(String(data['remoteAddress'])).to.match(/127\.0\.0\.1$/);
    expect(String(data['description'])).to.match(/authentication/);
    expect(alert?.body).not.to.contain('WRONG-KEY-0000');
    expect(alert?.body).not.to.contain(SAMPLE_AUTH);
    // The catch-all feed predates these events and must not receive them.
    expect(ledger.requests.filter((r) => envelope(r).type.startsWith('skyrelay.'))).to.deep.equal([]);
  });

  it('sends one alert per reason per window, then one summary with the count folded in', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await postCallback(t.callbackUrl, buildCallback({ payType: '9' }))).status).to.equal(400);
    }
    const invalid = (rs: readonly RecordedRequest[]) =>
      ofType(rs, 'skyrelay.rejection').filter((r) => envelope(r).data.data['reason'] === 'invalid');
    await ops.waitFor((rs) => invalid(rs).length >= 2, 5000);
    const [first, summary] = invalid(ops.requests);
    expect(first ? envelope(first).data.data['folded'] : 'missing').to.equal(undefined);
    expect(summary ? envelope(summary).data.data : {}).to.include({
      reason: 'invalid',
      folded: 2,
      summary: true,
      status: 400,
    });
    expect(String(summary ? envelope(summary).data.data['description'] : '')).to.match(
      /^2 more callbacks refused \(invalid\)/,
    );
    // Three rejections were kept, two alerts went out: nothing lost, nothing repeated.
    expect(
      await withStore(t.dbPath, async (s) => (await s.listRejections({ reason: 'invalid', limit: ALL })).length),
    ).to.equal(3);
    expect(invalid(ops.requests)).to.have.length(2);
  });

  it('raises delivery.dead when a delivery gives up, and nothing when that alert itself dies', async () => {
    const body = buildCallback({ payType: '4', failDescription: 'Account closed' });
    expect((await postCallback(t.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
    const [dead] = ofType(
      await ops.waitFor((rs) => ofType(rs, 'skyrelay.delivery.dead').length >= 1),
      'skyrelay.delivery.dead',
    );
    expect(dead ? envelope(dead).data.data : {}).to.include({
      destination: 'broken',
      controlNumber: body['controlNumber'],
      payoutStatus: 'failure',
      lastStatus: 400,
      rules: 'failures',
    });
    // The alert also went to the broken destination and died there: wait for that, then drain.
    await waitUntil(
      async () =>
        (await withStore(t.dbPath, (s) => s.listDeliveries({ state: 'dead', limit: ALL }))).filter(
          (d) => d.eventType === 'skyrelay.delivery.dead',
        ).length === 1,
      'the alert to the broken destination to die',
    );
    await t.stop();
    expect(
      await withStore(t.dbPath, async (s) => (await s.listEvents({ type: 'delivery.dead', limit: ALL })).length),
    ).to.equal(1);
    expect(ofType(ops.requests, 'skyrelay.delivery.dead')).to.have.length(1);
  });
});
