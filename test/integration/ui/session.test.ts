import { expect } from 'chai';
import { SESSION_COOKIE, SessionKeys } from '../../../src/ui/session';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { rawRequest } from '../../support/raw-http';

const TOKEN = 'dashboard-session-token-0123456789';

async function get(url: string, cookie?: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { redirect: 'manual', headers: { ...(cookie ? { cookie } : {}), ...headers } });
  return { status: res.status, location: res.headers.get('location'), body: await res.text(), headers: res.headers };
}

async function signIn(t: TestDaemon, token = TOKEN, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.baseUrl}/ui/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ token, next: '/ui/events' }),
    headers,
  });
  return { status: res.status, setCookie: res.headers.get('set-cookie'), location: res.headers.get('location') };
}

describe('dashboard over plain HTTP: absent without admin.token, sessions that cannot be forged', function () {
  this.timeout(20_000);

  it('serves nothing under /ui without admin.token', async () => {
    const t = await startTestDaemon();
    try {
      for (const path of ['/ui', '/ui/sign-in', '/ui/static/app.js', '/ui/events']) {
        expect((await get(`${t.baseUrl}${path}`)).status, path).to.equal(404);
      }
      const res = await fetch(`${t.baseUrl}/ui/sign-in`, { method: 'POST', body: new URLSearchParams({ token: 'x' }) });
      expect(res.status).to.equal(404);
    } finally {
      await t.stop();
    }
  });

  describe('with admin.token', () => {
    let t: TestDaemon;
    before(async () => {
      t = await startTestDaemon({ admin: { token: TOKEN } });
    });
    after(async () => {
      await t.stop();
    });

    it('sets an HttpOnly, SameSite=Strict, expiring session cookie for the right token only', async () => {
      const wrong = await signIn(t, 'not-the-admin-token-0000');
      expect(wrong.status).to.equal(401);
      expect(wrong.setCookie).to.equal(null);
      const ok = await signIn(t);
      expect(ok.status).to.equal(303);
      expect(ok.location).to.equal('/ui/events');
      expect(ok.setCookie).to.match(/^skyrelay_session=[\w.-]+; Path=\/ui; Max-Age=28800; HttpOnly; SameSite=Strict$/);
      const cookie = ok.setCookie!.split(';')[0]!;
      expect((await get(`${t.baseUrl}/ui/events`, cookie)).status).to.equal(200);
      // The admin API still takes its bearer token, and the session cookie is no substitute for it.
      expect((await get(`${t.baseUrl}/admin/events`, cookie)).status).to.equal(401);
      const bearer = await get(`${t.baseUrl}/admin/events`, undefined, { authorization: `Bearer ${TOKEN}` });
      expect(bearer.status).to.equal(200);
    });

    it('marks the cookie Secure when a trusted proxy says the client used HTTPS', async () => {
      const proxied = await startTestDaemon({ admin: { token: TOKEN }, server: { trustProxy: true } });
      try {
        const res = await signIn(proxied, TOKEN, { 'x-forwarded-proto': 'https' });
        expect(res.setCookie).to.match(/; Secure$/);
      } finally {
        await proxied.stop();
      }
    });

    it('refuses forged, expired and other-token cookies', async () => {
      const now = Date.now();
      const keys = new SessionKeys(TOKEN);
      const valid = keys.issue(now, 3_600_000).cookie;
      const [expires, id, signature] = valid.split('.') as [string, string, string];
      const cookies = {
        'a later expiry with the old signature': `${Number(expires) + 86_400_000}.${id}.${signature}`,
        'another session id': `${expires}.${'A'.repeat(24)}.${signature}`,
        expired: keys.issue(now - 7_200_000, 3_600_000).cookie,
        'signed with another token': new SessionKeys(`${TOKEN}-other`).issue(now, 3_600_000).cookie,
        garbage: 'x'.repeat(80),
      };
      for (const [what, value] of Object.entries(cookies)) {
        const res = await get(`${t.baseUrl}/ui/events`, `${SESSION_COOKIE}=${value}`);
        expect(res.status, what).to.equal(303);
        expect(res.location, what).to.match(/^\/ui\/sign-in\?next=/);
        expect(res.body, what).to.not.contain('<h1>Events');
      }
      expect((await get(`${t.baseUrl}/ui/events`, `${SESSION_COOKIE}=${valid}`)).status).to.equal(200);
    });

    it('needs a session for every spelling of a page, and lets only sign-in and assets through', async () => {
      for (const path of ['/ui', '/UI/events', '/ui/%65vents', '/ui/static/../events', '/ui//events', '/Ui/x']) {
        const res = await rawRequest(t.baseUrl, 'GET', path);
        expect(res.status, path).to.be.oneOf([303, 401]);
        expect(res.body, path).to.not.contain('<h1>');
      }
      // A backslash (or an encoded / \ NUL) is one reader's separator and another's text: refused outright.
      expect((await rawRequest(t.baseUrl, 'GET', '/ui\\events')).status).to.equal(400);
      const post = await fetch(`${t.baseUrl}/ui/deliveries/replay`, { method: 'POST', body: 'id=dlv_x' });
      expect(post.status).to.equal(401);
      expect((await get(`${t.baseUrl}/ui/sign-in`)).status).to.equal(200);
      const js = await get(`${t.baseUrl}/ui/static/app.js`);
      expect(js.status).to.equal(200);
      expect(js.headers.get('content-type')).to.match(/javascript/);
      expect((await get(`${t.baseUrl}/ui/static/nothing.js`)).status).to.equal(404);
    });

    it('ends a session on sign-out for good: the same cookie, replayed, is refused', async () => {
      const cookie = (await signIn(t)).setCookie!.split(';')[0]!;
      const page = await get(`${t.baseUrl}/ui`, cookie);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
      expect(csrf).to.be.a('string');
      const out = await fetch(`${t.baseUrl}/ui/sign-out`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie },
        body: new URLSearchParams({ _csrf: csrf! }),
      });
      expect(out.status).to.equal(303);
      expect(out.headers.get('set-cookie')).to.match(/^skyrelay_session=; Path=\/ui; Max-Age=0;/);
      const again = await get(`${t.baseUrl}/ui`, cookie);
      expect(again.status).to.equal(303);
      expect(again.location).to.match(/^\/ui\/sign-in/);
    });

    it('sends the pages with a strict Content-Security-Policy and never caches them', async () => {
      const cookie = (await signIn(t)).setCookie!.split(';')[0]!;
      const res = await get(`${t.baseUrl}/ui`, cookie);
      expect(res.headers.get('content-security-policy')).to.contain("script-src 'self'");
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect(res.body).to.contain('<h1>Overview</h1>');
    });
  });
});
