import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';
import { startReceiver, replies, type Receiver } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';

const TOKEN = 'admin-nul-and-ranges-token-0123456789';
const HUGE = '9999999999999h';

/** [method, path, JSON body]: filters that reached the store unchecked, where PostgreSQL refused them (503). */
const ADMIN_FILTERS: [string, string, unknown?][] = [
  ['GET', '/admin/events?controlNumber=SK%00X'],
  ['GET', '/admin/events?cursor=evt_%00'],
  ['GET', `/admin/events?since=${HUGE}`],
  ['GET', '/admin/events?since=%2B275760-09-13T00%3A00%3A00Z'],
  ['GET', `/admin/events?type=rejection&since=${HUGE}`],
  ['GET', `/admin/rejections?since=${HUGE}`],
  ['GET', '/admin/rejections?cursor=%00'],
  ['GET', '/admin/deliveries?destination=ops%00'],
  ['GET', `/admin/deliveries?since=${HUGE}`],
  ['GET', '/admin/deliveries?cursor=dlv%00'],
  ['GET', `/admin/payouts?olderThan=${HUGE}`],
  ['GET', '/admin/payouts?cursor=%00'],
  ['GET', '/admin/payouts?partner=%00'],
  ['GET', '/admin/silences?cursor=sil_%00'],
  ['POST', '/admin/replay', { state: 'dead', since: HUGE }],
  ['POST', '/admin/replay', { state: 'dead', destination: 'ops\u0000' }],
];

/** The same on the dashboard's pages and forms. */
const DASHBOARD_FILTERS: [string, string, Record<string, string>?][] = [
  ['GET', `/ui/events?since=${HUGE}`],
  ['GET', `/ui/events?until=${HUGE}`],
  ['GET', '/ui/events?controlNumber=SK%00X'],
  ['GET', '/ui/events?partner=%00'],
  ['GET', `/ui/deliveries?since=${HUGE}`],
  ['GET', '/ui/deliveries?destination=ops%00'],
  ['GET', `/ui/rejections?since=${HUGE}`],
  ['GET', `/ui/payouts?olderThan=${HUGE}`],
  ['POST', '/ui/deliveries/replay-matching', { state: 'dead', since: HUGE }],
  ['POST', '/ui/deliveries/replay-matching', { state: 'dead', destination: 'ops\u0000' }],
];

/**
 * PostgreSQL's text cannot hold U+0000 and its times are 64-bit: a NUL in a userName lost the rejection row (the
 * insert failed; only an error line was left), and a NUL or a huge `since` in an admin or dashboard filter was
 * answered 503 "store unavailable". Every string written to PostgreSQL now has NUL replaced, and filters are
 * checked before any store sees them (400 naming the filter). Run on both stores: the answers are the same.
 */
function suite(name: string, storeConfig: () => Record<string, unknown>): void {
  describe(`NUL characters and out-of-range filters (${name})`, function () {
    this.timeout(30_000);
    let t: TestDaemon;
    let ops: Receiver;
    let cookie: string;
    let csrf: string;

    before(async () => {
      ops = await startReceiver();
      t = await startTestDaemon({
        admin: { token: TOKEN },
        store: storeConfig(),
        destinations: {
          ops: { type: 'webhook', url: `${ops.url}/ops`, secret: `whsec_${Buffer.alloc(32, 3).toString('base64')}` },
        },
        rules: [
          { name: 'refusals', match: { source: 'skyrelay', type: 'rejection' }, to: ['ops'] },
          { name: 'feed', match: { source: 'skypay' }, to: ['ops'] },
        ],
        delivery: { initialBackoffMs: 50, maxBackoffMs: 100, pollIntervalMs: 50 },
      });
      const signIn = await fetch(`${t.baseUrl}/ui/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        body: new URLSearchParams({ token: TOKEN, next: '/ui/deliveries' }),
      });
      cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const page = await (await fetch(`${t.baseUrl}/ui/deliveries`, { headers: { cookie } })).text();
      csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
      expect(csrf, 'signed in').not.to.equal('');
    });
    after(async () => {
      await t?.stop();
      await ops?.close();
    });

    const admin = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${t.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, text: await res.text() };
    };

    it('keeps the rejection row of a userName with a NUL in it, and raises its alert', async () => {
      const userName = 'Nobody\u0000@x';
      const res = await postCallback(t.callbackUrl, buildCallback({ userName }));
      expect(res.status).to.equal(401);
      const rows = await t.daemon.store.listRejections({ limit: 10 });
      expect(rows, 'the row is kept').to.have.length(1);
      expect(rows[0]?.partner)
        .to.be.a('string')
        .and.match(/^Nobody.@x$/);
      const kept = await t.daemon.store.getRejection(rows[0]?.id ?? '');
      expect(kept?.body).to.contain('Nobody\\u0000@x');
      await ops.waitFor(1, 5_000);
      expect(ops.requests[0]?.json).to.deep.include({ type: 'skyrelay.rejection' });
      expect(
        t.logs.filter((l) => l.includes('"level":50')),
        'no error logged',
      ).to.deep.equal([]);
    });

    it('stores a failDescription with an escaped NUL exactly, and the attempt of a receiver answering a NUL', async () => {
      ops.respondOnce(replies.status(500, 'broken\u0000answer'));
      const body = buildCallback({ payType: '4', failDescription: 'closed\u0000account' });
      expect((await postCallback(t.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
      const [event] = await t.daemon.store.findEventsByControlNumber(String(body['controlNumber']));
      expect(event?.event).to.include({ failDescription: 'closed\u0000account' });
      const id = event?.event.id ?? '';
      // The first answer (500, with a NUL) is recorded as an attempt, and the retry delivers.
      await waitUntil(
        async () => (await t.daemon.store.getEvent(id))?.deliveries[0]?.state === 'delivered',
        'the delivery to be retried and delivered',
      );
      const attempts = (await t.daemon.store.getEvent(id))?.deliveries[0]?.attemptLog ?? [];
      expect(attempts.map((a) => a.status)).to.deep.equal([500, 200]);
      expect(attempts[0]?.response).to.match(/^broken.answer$/);
      const relayed = ops.requests.find((r) => JSON.stringify(r.json).includes(String(body['controlNumber'])));
      expect(JSON.stringify(relayed?.json)).to.contain('closed\\u0000account');
      expect(
        t.logs.filter((l) => l.includes('"level":50')),
        'no error logged',
      ).to.deep.equal([]);
    });

    for (const [method, path, body] of ADMIN_FILTERS) {
      it(`${method} ${path}${body === undefined ? '' : ` ${JSON.stringify(body)}`}: 400 naming the filter`, async () => {
        const res = await admin(method, path, body);
        expect(res.status, res.text).to.equal(400);
        expect((JSON.parse(res.text) as { error: string }).error).to.match(
          /^(since|cursor|controlNumber|destination|olderThan|older-than|partner): /,
        );
      });
    }

    for (const [method, path, form] of DASHBOARD_FILTERS) {
      it(`dashboard ${method} ${path}${form ? ` ${JSON.stringify(form)}` : ''}: 400 with the reason`, async () => {
        const res = await fetch(`${t.baseUrl}${path}`, {
          method,
          redirect: 'manual',
          headers: { cookie },
          ...(form ? { body: new URLSearchParams({ ...form, _csrf: csrf }) } : {}),
        });
        const page = await res.text();
        expect(res.status, page).to.equal(400);
        expect(page).to.match(/(since|until|controlNumber|partner|destination|older-than|control number): /);
      });
    }

    // A NUL anywhere in a path under /admin, /ui or the metrics path is refused before routing, like an encoded
    // separator: no handler (and no store) ever sees it.
    it('refuses a NUL in an id in a path with 400 before any store sees it, never 503', async () => {
      for (const path of ['/admin/events/evt_%00', '/admin/payouts/SK%00X']) {
        expect((await admin('GET', path)).status, path).to.equal(400);
      }
      const page = await fetch(`${t.baseUrl}/ui/payouts/SK%00X`, { redirect: 'manual', headers: { cookie } });
      expect(page.status).to.equal(400);
      expect(await page.text()).to.match(/encoded/);
    });
  });
}

suite('SQLite', () => ({}));

describePostgres('on PostgreSQL', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.drop();
  });
  suite('PostgreSQL', () => ({ url: db.url }));
});
