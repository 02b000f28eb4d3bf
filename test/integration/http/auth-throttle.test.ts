import http from 'node:http';
import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';

const ADMIN_TOKEN = 'auth-throttle-admin-token-0123456';
const METRICS_TOKEN = 'auth-throttle-metrics-token-01234';

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/** A request from a chosen loopback address: each test's guesser is its own client, apart from the operator. */
function request(
  t: TestDaemon,
  from: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  const { port } = new URL(t.baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, localAddress: from, method, path, headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: text }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const signIn = (t: TestDaemon, from: string, token: string) =>
  request(
    t,
    from,
    'POST',
    '/ui/sign-in',
    { 'content-type': 'application/x-www-form-urlencoded' },
    new URLSearchParams({ token, next: '/ui' }).toString(),
  );
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function count(text: string, pattern: RegExp): number {
  return text.split('\n').filter((line) => pattern.test(line)).length;
}

describe('wrong tokens per address: 429 with Retry-After after 10 a minute, sampled logs, counted in /metrics', function () {
  this.timeout(60_000);

  it('locks a guesser out of the dashboard sign-in (and so /admin) after 10 of 300 wrong tokens, logs a line or two', async () => {
    const t = await startTestDaemon({
      admin: { token: ADMIN_TOKEN },
      metrics: { enabled: true, token: METRICS_TOKEN, publishIntervalMs: 100 },
    });
    try {
      const statuses: number[] = [];
      const waits = new Set<string | undefined>();
      for (let i = 0; i < 300; i++) {
        const answer = await signIn(t, '127.0.0.2', `guess-${String(i).padStart(28, '0')}`);
        statuses.push(answer.status);
        if (answer.status === 429) waits.add(answer.retryAfter);
      }
      expect(statuses.slice(0, 10)).to.deep.equal(Array<number>(10).fill(401));
      expect(
        statuses.slice(10).every((s) => s === 429),
        'every guess after the tenth',
      ).to.equal(true);
      expect(
        [...waits].every((w) => Number(w) > 0 && Number(w) <= 60),
        [...waits].join(),
      ).to.equal(true);
      // Locked out, even the right token is not checked: a guesser learns nothing from the answer.
      const right = await signIn(t, '127.0.0.2', ADMIN_TOKEN);
      expect(right.status).to.equal(429);
      expect(right.body).to.include('Too many wrong tokens from your address');
      expect((await request(t, '127.0.0.2', 'GET', '/admin/events', bearer(ADMIN_TOKEN))).status).to.equal(429);
      // Another address (the operator's) is not affected.
      expect((await request(t, '127.0.0.1', 'GET', '/admin/events', bearer(ADMIN_TOKEN))).status).to.equal(200);

      const logged = t.logs.join('');
      expect(count(logged, /wrong credential/), 'warn lines for 301 refusals').to.be.within(1, 3);
      expect(logged).to.not.include('guess-');
      const scrape = async () => (await request(t, '127.0.0.1', 'GET', '/metrics', bearer(METRICS_TOKEN))).body;
      await waitUntil(
        async () =>
          /^skyrelay_auth_failures_total\{outcome="throttled",surface="dashboard"\} 291$/m.test(await scrape()),
        'the refusals published to /metrics',
      );
      expect(await scrape()).to.match(/^skyrelay_auth_failures_total\{outcome="wrong",surface="dashboard"\} 10$/m);
    } finally {
      await t.stop();
    }
  });

  it('lets a locked-out address try again after Retry-After, and doubles the next lockout; /admin and /metrics alike', async () => {
    const t = await startTestDaemon({
      admin: { token: ADMIN_TOKEN },
      metrics: { enabled: true, token: METRICS_TOKEN },
      server: { authThrottle: { lockoutMs: 1_000 } },
    });
    try {
      const from = '127.0.0.3';
      const wrong = 'wrong-admin-token-000000000000000';
      for (let i = 0; i < 10; i++) {
        expect((await request(t, from, 'GET', '/admin/events', bearer(wrong))).status).to.equal(401);
      }
      const locked = await request(t, from, 'GET', '/admin/events', bearer(ADMIN_TOKEN));
      expect(locked.status).to.equal(429);
      expect(locked.retryAfter).to.equal('1');
      expect(JSON.parse(locked.body)).to.deep.equal({
        error: 'too many wrong tokens from this address: retry after 1 s',
      });
      // A request without any token is no guess: it is not counted, and is refused 429 too while locked.
      await waitUntil(async () => (await request(t, from, 'GET', '/metrics')).status === 401, 'the lockout to end');
      for (let i = 0; i < 10; i++) {
        expect((await request(t, from, 'GET', '/metrics', bearer(wrong))).status).to.equal(401);
      }
      const again = await request(t, from, 'GET', '/metrics', bearer(METRICS_TOKEN));
      expect(again.status).to.equal(429);
      expect(again.retryAfter, 'the second lockout lasts twice the first').to.equal('2');
      // The right token, once the lockout ends, clears the address's record: the next lockout is the first again.
      await waitUntil(
        async () => (await request(t, from, 'GET', '/admin/events', bearer(ADMIN_TOKEN))).status === 200,
        'the second lockout to end',
      );
      for (let i = 0; i < 10; i++) await request(t, from, 'GET', '/admin/events', bearer(wrong));
      expect((await request(t, from, 'GET', '/admin/events', bearer(ADMIN_TOKEN))).retryAfter).to.equal('1');
      for (let i = 0; i < 20; i++) {
        expect((await request(t, '127.0.0.4', 'GET', '/metrics')).status, 'no token: not a guess').to.equal(401);
      }
      expect((await request(t, '127.0.0.4', 'GET', '/metrics', bearer(METRICS_TOKEN))).status).to.equal(200);
    } finally {
      await t.stop();
    }
  });
});
