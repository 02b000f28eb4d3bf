import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { SAMPLE_AUTH, buildCallback, postCallback } from '../../support/skypay';

const TOKEN = 'admin-rejections-token-0123456789';

type Json = Record<string, unknown>;

describe('admin API: refused callbacks (/admin/rejections, /admin/events?type=rejection)', function () {
  this.timeout(20_000);
  let t: TestDaemon;
  let cut: string;

  async function call(path: string): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${t.baseUrl}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.status, body: (await res.json()) as Json };
  }
  const items = (body: Json) => body['items'] as Json[];
  /** Follows `next` links and returns every item. */
  async function all(path: string): Promise<Json[]> {
    const out: Json[] = [];
    for (let next: unknown = path; typeof next === 'string';) {
      const res = await call(next);
      expect(res.status, next).to.equal(200);
      out.push(...items(res.body));
      next = res.body['next'];
    }
    return out;
  }

  /**
   * Listings are newest first by id, and ids only order by millisecond: the
   * next request goes out once the clock has passed this one's answer.
   */
  async function send(post: () => Promise<unknown>): Promise<void> {
    await post();
    const answered = Date.now();
    await waitUntil(() => Date.now() > answered, 'the next millisecond');
  }

  before(async () => {
    // No rule routes skyrelay's own events: no rejection event is ever stored, yet every rejection must be listed.
    t = await startTestDaemon({ admin: { token: TOKEN } });
    await send(() => postCallback(t.callbackUrl, buildCallback({ payType: '2' })));
    await send(() => postCallback(t.callbackUrl, buildCallback({ authentication: 'GUESS-0000' })));
    await send(() => postCallback(t.callbackUrl, buildCallback({ controlNumber: 'SHORT' })));
    await send(() => postCallback(t.callbackUrl, undefined, { method: 'GET' }));
    cut = new Date().toISOString();
    await send(() => postCallback(t.callbackUrl, buildCallback({ userName: 'Mallory@skypay' })));
    const broken = `{"authentication":"${SAMPLE_AUTH}",`;
    await send(() => postCallback(t.callbackUrl, undefined, { raw: broken, contentType: 'application/json' }));
  });
  after(async () => {
    await t?.stop();
  });

  it('lists every rejection newest first: time, address, reason, partner, description; never the body', async () => {
    const res = await call('/admin/rejections');
    expect(res.status).to.equal(200);
    expect(res.body['next']).to.equal(null);
    const rows = items(res.body);
    expect(rows.map((r) => r['reason'])).to.deep.equal([
      'malformed',
      'unauthenticated',
      'method_not_allowed',
      'invalid',
      'unauthenticated',
    ]);
    const wrongKey = rows[4] as Json;
    expect(wrongKey).to.include({
      status: 401,
      reason: 'unauthenticated',
      partner: 'AppName@skypay',
      method: 'POST',
      path: '/callbacks/skypay',
    });
    expect(wrongKey['id']).to.match(/^rej_/);
    expect(wrongKey['description']).to.match(/wrong authentication key/);
    expect(wrongKey['remoteAddress']).to.match(/127\.0\.0\.1/);
    expect(Date.parse(String(wrongKey['receivedAt']))).to.be.closeTo(Date.now(), 10_000);
    expect(rows[2]).to.include({ status: 405, partner: null });
    expect(Object.keys(wrongKey)).not.to.include('body');
    expect(JSON.stringify(res.body)).not.to.contain(SAMPLE_AUTH);
  });

  it('pages with limit and cursor like /admin/events, and filters by since and reason', async () => {
    const first = await call('/admin/rejections?limit=2');
    expect(items(first.body)).to.have.length(2);
    expect(first.body['next']).to.match(/^\/admin\/rejections\?limit=2&cursor=rej_/);
    const every = await all('/admin/rejections?limit=2');
    expect(every.map((r) => r['id'])).to.deep.equal(items((await call('/admin/rejections')).body).map((r) => r['id']));
    const denied = (await all('/admin/rejections?reason=unauthenticated&limit=1')).map((r) => r['description']);
    expect(denied).to.have.length(2);
    expect(String(denied[0])).to.match(/unknown partner/);
    expect(String(denied[1])).to.match(/wrong authentication key/);
    const since = items((await call(`/admin/rejections?since=${encodeURIComponent(cut)}`)).body);
    expect(since.map((r) => r['reason'])).to.deep.equal(['malformed', 'unauthenticated']);
    expect(items((await call('/admin/rejections?since=1h&reason=invalid')).body)).to.have.length(1);
    expect(items((await call('/admin/rejections?reason=no_such_reason')).body)).to.deep.equal([]);
    for (const bad of ['reason=Bad!', 'limit=0', 'since=yesterday']) {
      const res = await call(`/admin/rejections?${bad}`);
      expect(res.status, bad).to.equal(400);
      expect(res.body['error']).to.match(/^(reason|limit|since): expected/);
    }
  });

  it('answers /admin/events?type=rejection from the same rows, whatever the rules say', async () => {
    expect(items((await call('/admin/events')).body).map((e) => e['type'])).to.deep.equal(['payout']);
    const listed = await all('/admin/events?type=rejection&limit=2');
    expect(listed).to.deep.equal(items((await call('/admin/rejections')).body));
    const since = items((await call(`/admin/events?type=rejection&since=${encodeURIComponent(cut)}`)).body);
    expect(since).to.have.length(2);
    const combined = await call('/admin/events?type=rejection&status=failure');
    expect(combined.status).to.equal(400);
    expect(combined.body['error']).to.match(/^status: does not apply to type rejection/);
  });
});
