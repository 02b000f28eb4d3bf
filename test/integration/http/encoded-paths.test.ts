import { expect } from 'chai';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { rawRequest } from '../../support/raw-http';

const ADMIN_TOKEN = 'encoded-paths-admin-token-0123456';
const METRICS_TOKEN = 'encoded-paths-metrics-token-01234';

/**
 * A router decodes %2F inside a parameter while a guard that resolves the whole path sees another route: the two
 * paths an attack used, then every spelling of a separator or NUL that one reader could take as structure and
 * another as text, under each path a guard covers.
 */
const ATTACKS: [method: string, target: string][] = [
  ['GET', '/ui/payouts/X%2F..%2F..%2F..%2Fui%2Fstatic%2Fapp.js'],
  ['POST', '/ui/destinations/ledger%2F..%2F..%2Fstatic%2Fx/test'],
];
const SPELLINGS = ['%2F', '%2f', '%5C', '%5c', '%00', '%252F', '%255c', '%2500', '\\'];
const UNDER = [
  '/ui/payouts/X{}..{}static{}app.js',
  '/ui/events/evt_1{}x',
  '/admin/events{}x',
  '/metrics{}x',
  '/admin{}',
];

describe('encoded separators under /ui, /admin and the metrics path: 400 before any guard or route', function () {
  this.timeout(30_000);
  let t: TestDaemon;

  before(async () => {
    t = await startTestDaemon({
      admin: { token: ADMIN_TOKEN },
      metrics: { enabled: true, token: METRICS_TOKEN },
    });
  });
  after(async () => {
    await t.stop();
  });

  it('answers 400 to the paths that reached a protected handler without a session, and logs no error', async () => {
    const before = t.logs.length;
    for (const [method, target] of ATTACKS) {
      const res = await rawRequest(t.baseUrl, method, target);
      expect(res.status, `${method} ${target}`).to.equal(400);
      expect(res.body).to.include('%2F, %5C, %00');
    }
    const logged = t.logs.slice(before).join('');
    expect(logged).to.not.match(/"level":(50|60)/);
    expect(logged).to.not.include('reached without a session');
  });

  it('answers 400 to %2F, %5C, %00 in any case and any depth of encoding, and a raw backslash, token or not', async () => {
    for (const template of UNDER) {
      for (const spelling of SPELLINGS) {
        const target = template.replaceAll('{}', spelling);
        for (const token of [undefined, ADMIN_TOKEN, METRICS_TOKEN]) {
          const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
          const res = await rawRequest(t.baseUrl, 'GET', target, headers);
          expect(res.status, `${target} with ${token ?? 'no token'}`).to.equal(400);
        }
      }
    }
  });

  it('leaves the open routes open and every other path under /ui behind the session, as the routers match them', async () => {
    expect((await rawRequest(t.baseUrl, 'GET', '/ui/sign-in')).status).to.equal(200);
    const asset = await rawRequest(t.baseUrl, 'GET', '/ui/static/app.js');
    expect(asset.status).to.equal(200);
    expect(asset.headers['content-type']).to.match(/javascript/);
    // Paths that resolve to an asset or the sign-in page but that the open router does not match need a session.
    for (const target of [
      '/ui/payouts/x/../../static/app.js',
      '/ui/SIGN-IN',
      '/ui/static/../payouts/X',
      '/UI/static/app.js',
    ]) {
      const res = await rawRequest(t.baseUrl, 'GET', target);
      expect(res.status, target).to.equal(303);
      expect(res.headers['location']).to.match(/^\/ui\/sign-in\?next=/);
    }
    const post = await rawRequest(t.baseUrl, 'POST', '/ui/destinations/ledger/test');
    expect(post.status).to.equal(401);
  });

  it('leaves paths outside the guarded ones alone', async () => {
    expect((await rawRequest(t.baseUrl, 'GET', '/healthz')).status).to.equal(200);
    expect((await rawRequest(t.baseUrl, 'GET', '/nowhere%2Fx')).status).to.equal(404);
  });
});
