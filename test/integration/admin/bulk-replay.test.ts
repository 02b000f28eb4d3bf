import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { startReceiver, type Receiver } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';

const TOKEN = 'admin-bulk-replay-token-012345678';
const SECRET = `whsec_${Buffer.from('admin-bulk-replay-secret-000001').toString('base64')}`;

type Json = Record<string, unknown>;

describe('admin API: bulk replay of delivered deliveries needs a filter and a confirmed count', function () {
  this.timeout(20_000);
  let t: TestDaemon;
  let hook: Receiver;
  let other: Receiver;

  async function replay(body: Json): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${t.baseUrl}/admin/replay`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  before(async () => {
    [hook, other] = await Promise.all([startReceiver(), startReceiver()]);
    t = await startTestDaemon({
      admin: { token: TOKEN },
      destinations: {
        hook: { type: 'webhook', url: `${hook.url}/in`, secret: SECRET },
        other: { type: 'webhook', url: `${other.url}/in`, secret: SECRET },
      },
      rules: [{ name: 'feed', to: ['hook', 'other'] }],
      delivery: { pollIntervalMs: 100 },
    });
    for (let i = 0; i < 3; i++) await postCallback(t.callbackUrl, buildCallback({ payType: '2' }));
    await Promise.all([hook.waitFor(3), other.waitFor(3)]);
  });
  after(async () => {
    await t.stop();
    await Promise.all([hook.close(), other.close()]);
  });

  it('refuses an unfiltered replay of delivered deliveries, and answers an unconfirmed one with its count', async () => {
    const all = await replay({ state: 'delivered' });
    expect(all.status).to.equal(400);
    expect(String(all.body['error'])).to.match(/needs "since" or "destination"/);
    const unconfirmed = await replay({ state: 'delivered', destination: 'hook', since: '1h' });
    expect(unconfirmed.status).to.equal(400);
    expect(unconfirmed.body['count']).to.equal(3);
    expect(String(unconfirmed.body['error'])).to.contain('"confirm": 3');
    const wrong = await replay({ state: 'delivered', destination: 'hook', confirm: 2 });
    expect(wrong).to.deep.include({ status: 409 });
    expect(wrong.body['count']).to.equal(3);
    expect((await replay({ state: 'delivered', destination: 'hook', confirm: '3' })).status).to.equal(400);
    // Nothing of the refused requests went out again.
    expect(hook.requests).to.have.length(3);
    expect(other.requests).to.have.length(3);
  });

  it('requeues exactly the confirmed count, under the same webhook-ids', async () => {
    const ok = await replay({ state: 'delivered', destination: 'hook', since: '1h', confirm: 3 });
    expect(ok.status).to.equal(200);
    expect(ok.body['requeued']).to.have.length(3);
    const requests = await hook.waitFor(6);
    const ids = requests.map((r) => String(r.headers['webhook-id']));
    expect(new Set(ids).size).to.equal(3);
    expect(other.requests).to.have.length(3);
  });

  it('answers 409 with the new count when it changed between asking and confirming', async () => {
    const asked = await replay({ state: 'delivered', destination: 'other' });
    expect(asked.body['count']).to.equal(3);
    await postCallback(t.callbackUrl, buildCallback({ payType: '2' }));
    await other.waitFor(4);
    await waitUntil(
      async () => (await replay({ state: 'delivered', destination: 'other' })).body['count'] === 4,
      'the fourth to be delivered',
    );
    const changed = await replay({ state: 'delivered', destination: 'other', confirm: 3 });
    expect(changed.status).to.equal(409);
    expect(changed.body['count']).to.equal(4);
    expect(String(changed.body['error'])).to.match(/changed from 3 to 4; nothing was replayed/);
    expect(other.requests).to.have.length(4);
  });

  it('replays dead deliveries as before, without a confirmation', async () => {
    const dead = await replay({ state: 'dead' });
    expect(dead).to.deep.equal({ status: 200, body: { requeued: [], created: [], skipped: [] } });
  });
});
