import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { replies, startReceiver, type Receiver } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';

const TOKEN = 'admin-token-for-tests-0123456789';
const SECRET = `whsec_${Buffer.from('admin-test-signing-secret-00001').toString('base64')}`;

type Json = Record<string, unknown>;

describe('admin API (/admin)', function () {
  this.timeout(20_000);
  let t: TestDaemon;
  let hook: Receiver;
  const control: string[] = [];

  async function call(
    path: string,
    init: RequestInit = {},
    token: string | null = TOKEN,
  ): Promise<{ status: number; body: Json }> {
    const headers = new Headers(init.headers);
    if (token !== null) headers.set('authorization', `Bearer ${token}`);
    if (init.body) headers.set('content-type', 'application/json');
    const res = await fetch(`${t.baseUrl}${path}`, { ...init, headers });
    return { status: res.status, body: (await res.json()) as Json };
  }
  const items = (body: Json) => body['items'] as Json[];

  before(async () => {
    hook = await startReceiver();
    hook.respondWith(replies.badRequest('channel_not_found'));
    t = await startTestDaemon({
      admin: { token: TOKEN },
      destinations: { hook: { type: 'webhook', url: `${hook.url}/in`, secret: SECRET } },
      rules: [{ name: 'feed', to: ['hook'] }],
      // A long poll: the replays below must be sent because the API wakes the worker, not by the poll.
      delivery: { pollIntervalMs: 60_000 },
    });
    for (const payType of ['2', '4', '2']) {
      const body = buildCallback({ payType });
      control.push(String(body['controlNumber']));
      await postCallback(t.callbackUrl, body);
    }
    await waitUntil(
      async () => items((await call('/admin/deliveries?state=dead')).body).length === 3,
      'three dead deliveries',
    );
  });
  after(async () => {
    await t.stop();
    await hook.close();
  });

  it('refuses requests without the bearer token (401), never echoing a token', async () => {
    for (const token of [null, 'wrong-token-wrong-token-000000', `${TOKEN}x`]) {
      const res = await call('/admin/events', {}, token);
      expect(res.status).to.equal(401);
      expect(JSON.stringify(res.body)).not.to.contain(TOKEN);
    }
    const basic = await fetch(`${t.baseUrl}/admin/events`, { headers: { authorization: `Basic ${TOKEN}` } });
    expect(basic.status).to.equal(401);
    expect(basic.headers.get('www-authenticate')).to.match(/^Bearer/);
  });

  it("lists events newest first in pages linked by next, with the CLI's filters", async () => {
    const first = await call('/admin/events?limit=2');
    expect(first.status).to.equal(200);
    expect(items(first.body).map((e) => e['controlNumber'])).to.deep.equal([control[2], control[1]]);
    expect(first.body['next']).to.match(/^\/admin\/events\?limit=2&cursor=evt_/);
    const second = await call(String(first.body['next']));
    expect(items(second.body).map((e) => e['controlNumber'])).to.deep.equal([control[0]]);
    expect(second.body['next']).to.equal(null);
    const failures = await call('/admin/events?status=failure&since=1h');
    expect(items(failures.body).map((e) => e['controlNumber'])).to.deep.equal([control[1]]);
    const bad = await call('/admin/events?status=failed');
    expect(bad.status).to.equal(400);
    expect(bad.body['error']).to.match(/^status: expected one of/);
  });

  it('shows one event with its deliveries and every attempt; 404 for an unknown id', async () => {
    const [summary] = items((await call(`/admin/events?controlNumber=${control[1]}`)).body);
    const detail = await call(`/admin/events/${String(summary?.['id'])}`);
    expect((detail.body['event'] as Json)['controlNumber']).to.equal(control[1]);
    const [delivery] = detail.body['deliveries'] as Json[];
    expect(delivery).to.include({ destination: 'hook', state: 'dead', lastStatus: 400 });
    expect((delivery?.['attemptLog'] as Json[])[0]).to.include({ attempt: 1, outcome: 'dead', status: 400 });
    expect((await call('/admin/events/evt_unknown')).status).to.equal(404);
  });

  it('replays one delivery and the daemon sends it at once; an unknown one is 404', async () => {
    hook.respondWith(replies.ok());
    const [dead] = items((await call('/admin/deliveries?state=dead&destination=hook&limit=1')).body);
    const id = String(dead?.['id']);
    const replay = await call(`/admin/deliveries/${id}/replay`, { method: 'POST' });
    expect(replay).to.deep.equal({ status: 200, body: { requeued: [id], created: [], skipped: [] } });
    await hook.waitFor((rs) => rs.some((r) => r.headers['webhook-id'] === id && hook.requests.indexOf(r) >= 3));
    expect((await call('/admin/deliveries/dlv_unknown/replay', { method: 'POST' })).status).to.equal(404);
  });

  it('replays every dead delivery of a destination, and an event to its destinations', async () => {
    const res = await call('/admin/replay', {
      method: 'POST',
      body: JSON.stringify({ state: 'dead', destination: 'hook' }),
    });
    expect((res.body['requeued'] as string[]).length).to.equal(2);
    await waitUntil(
      async () => items((await call('/admin/deliveries?state=delivered')).body).length === 3,
      'all three delivered',
    );
    const [event] = items((await call(`/admin/events?controlNumber=${control[0]}`)).body);
    const again = await call(`/admin/events/${String(event?.['id'])}/replay`, { method: 'POST' });
    expect((again.body['requeued'] as string[]).length).to.equal(1);
    await hook.waitFor(7);
    const badState = await call('/admin/replay', { method: 'POST', body: JSON.stringify({ state: 'pending' }) });
    expect(badState.status).to.equal(400);
    expect(t.logs.join('')).not.to.contain(TOKEN);
  });

  it('is not there at all without admin.token', async () => {
    const plain = await startTestDaemon();
    try {
      const res = await fetch(`${plain.baseUrl}/admin/events`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).to.equal(404);
    } finally {
      await plain.stop();
    }
  });
});
