import { expect } from 'chai';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { rawRequest } from '../../support/raw-http';

const TOKEN = 'admin-guard-token-0123456789abcdef';

/** Every admin route, with a request that the route itself answers (not 401, not the guard's 404). */
const ROUTES: { method: string; path: string; body?: string; served: number }[] = [
  { method: 'GET', path: '/admin/events', served: 200 },
  { method: 'GET', path: '/admin/events/evt_unknown', served: 404 },
  { method: 'GET', path: '/admin/deliveries', served: 200 },
  { method: 'GET', path: '/admin/rejections', served: 200 },
  { method: 'POST', path: '/admin/deliveries/dlv_unknown/replay', served: 404 },
  // A destination that does not exist: served, and requeues nothing.
  { method: 'POST', path: '/admin/replay', body: '{"state":"dead","destination":"nowhere"}', served: 200 },
  { method: 'POST', path: '/admin/events/evt_unknown/replay', served: 404 },
  { method: 'GET', path: '/admin/silences', served: 200 },
  // Served and refused by the route itself: a silence needs matchers, endsAt and comment.
  { method: 'POST', path: '/admin/silences', body: '{}', served: 400 },
  // Expiring needs no name (the token names who did it): an unknown silence is the route's own 404.
  { method: 'DELETE', path: '/admin/silences/sil_unknown', served: 404 },
];

const hex = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** Spellings of `/admin<rest>` that some layer (router, proxy, a decoding server) could read as the same path. */
function variants(path: string): string[] {
  const rest = path.slice('/admin'.length);
  const [, first = '', ...others] = rest.split('/');
  const tail = others.length ? `/${others.join('/')}` : '';
  return [
    `/ADMIN${rest}`,
    `/Admin${rest}`,
    `/aDmin${rest}`,
    `/admin/${first.toUpperCase()}${tail}`,
    `${path}/`,
    `/${path}`,
    `/admin/${rest}`,
    `${path.replace(/\/([^/]*)$/, '//$1')}`,
    `/%61dmin${rest}`,
    `/%2561dmin${rest}`,
    `/%41DMIN${rest}`,
    `/admin/${hex(first[0] ?? 'x')}${first.slice(1)}${tail}`,
    `/admin/.${rest}`,
    `/x/..${path}`,
  ];
}

const UNKNOWN = [
  '/admin',
  '/admin/',
  '/admin/nope',
  '/admin/events/evt_1/nope',
  '/ADMIN/nope',
  '/%61dmin',
  '/admin/silences/sil_1/nope',
  '/admin/events/evt_1/replay/again',
  '//admin//',
];

describe('admin API guard: authentication before routing', function () {
  this.timeout(20_000);
  let t: TestDaemon;
  const call = (method: string, target: string, token: string | null, body?: string) =>
    rawRequest(
      t.baseUrl,
      method,
      target,
      {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body,
    );

  before(async () => {
    // Hundreds of wrong tokens from one address on purpose: the lockout (auth-throttle.test.ts) would answer 429.
    t = await startTestDaemon({ admin: { token: TOKEN }, server: { authThrottle: { maxFailures: 1_000_000 } } });
  });
  after(async () => {
    await t.stop();
  });

  it('answers 401 without the token for every route in every spelling, and never serves one', async () => {
    for (const route of ROUTES) {
      for (const target of [route.path, ...variants(route.path)]) {
        for (const token of [null, 'wrong-token-wrong-token-0000000']) {
          const res = await call(route.method, target, token, route.body);
          expect(res.status, `${route.method} ${target} with ${token ?? 'no token'}`).to.equal(401);
          expect(res.headers['www-authenticate']).to.match(/^Bearer realm="skyrelay admin"/);
          expect(res.body).not.to.contain(TOKEN);
        }
      }
    }
  });

  it('with the token serves only the exact spelling of each route; every other spelling is 404', async () => {
    for (const route of ROUTES) {
      const exact = await call(route.method, route.path, TOKEN, route.body);
      expect(exact.status, `${route.method} ${route.path}`).to.equal(route.served);
      expect(exact.body).not.to.contain('no such admin endpoint');
      for (const target of variants(route.path)) {
        const res = await call(route.method, target, TOKEN, route.body);
        expect(res.status, `${route.method} ${target}`).to.equal(404);
        expect(JSON.parse(res.body)).to.deep.equal({ error: 'no such admin endpoint' });
      }
    }
  });

  it('answers unknown paths under /admin with 401 without the token and 404 with it, for any method', async () => {
    for (const target of UNKNOWN) {
      for (const method of ['GET', 'POST', 'DELETE', 'OPTIONS']) {
        expect((await call(method, target, null)).status, `${method} ${target}`).to.equal(401);
        const res = await call(method, target, TOKEN);
        expect(res.status, `${method} ${target} with the token`).to.equal(404);
        expect(JSON.parse(res.body)).to.deep.equal({ error: 'no such admin endpoint' });
      }
    }
  });

  it('refuses an encoded separator under /admin with 400 before the token is checked', async () => {
    for (const route of ROUTES) {
      const target = `/admin%2F${route.path.slice('/admin/'.length)}`;
      for (const token of [null, TOKEN]) {
        expect((await call(route.method, target, token, route.body)).status, `${target}`).to.equal(400);
      }
    }
  });

  it('leaves paths outside /admin alone', async () => {
    expect((await call('GET', '/healthz', null)).status).to.equal(200);
    expect((await call('GET', '/administrator', null)).status).to.equal(404);
    expect((await call('GET', '/admin-events', null)).status).to.equal(404);
  });
});
