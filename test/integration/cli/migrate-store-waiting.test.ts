import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { readCopiedTables } from '../../support/copied-tables';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';
import { replies, startReceiver, type RecordedRequest, type Receiver } from '../../support/receiver';
import { buildCallback, nextControlNumber, postCallback } from '../../support/skypay';
import { readGroupMessages } from '../../support/slack-groups';
import { ALL, withStore } from '../../support/store';
import { runCli } from './run-cli';

const SECRET = `whsec_${Buffer.from('migrate-store-waiting-secret-01').toString('base64')}`;
const ADMIN_TOKEN = 'migrate-store-dashboard-token-0123';
const PREFIX = 'SKMIG';
const NAMED = /SKMIG\d{10}/g;

interface Receivers {
  slack: Receiver;
  ledger: Receiver;
  ops: Receiver;
}

/**
 * One deployment, on SQLite and then on PostgreSQL: failures to a grouped Slack destination (a message at once, then
 * one per group interval), paid payouts to a ledger webhook, rejection alerts to an ops webhook (one per reason per
 * window, the rest folded into a summary), and the dashboard.
 */
function deployment(r: Receivers, timing: { intervalMs: number; rejectionWindowMs: number }) {
  return {
    destinations: {
      'ops-slack': {
        type: 'slack',
        url: `${r.slack.url}/services/T1/B1/migratesecret1`,
        group: { waitMs: 0, intervalMs: timing.intervalMs },
      },
      ledger: { type: 'webhook', url: `${r.ledger.url}/ledger`, secret: SECRET },
      ops: { type: 'webhook', url: `${r.ops.url}/ops`, secret: SECRET },
    },
    rules: [
      { name: 'problems', match: { payType: 'failure' }, to: ['ops-slack'] },
      { name: 'ledger-feed', match: { payType: 'paid' }, to: ['ledger'] },
      { name: 'ops-rejections', match: { type: 'rejection' }, to: ['ops'] },
    ],
    alerts: { rejectionWindowMs: timing.rejectionWindowMs },
    delivery: { maxAttempts: 50, initialBackoffMs: 200, maxBackoffMs: 1000, timeoutMs: 2000, pollIntervalMs: 100 },
    admin: { token: ADMIN_TOKEN },
  };
}

async function sendAccepted(url: string, body: Record<string, unknown>): Promise<void> {
  expect((await postCallback(url, body)).json?.['responseCode'], String(body['controlNumber'])).to.equal('1000');
}

async function signIn(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/ui/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ token: ADMIN_TOKEN, next: '/ui' }),
  });
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  if (!cookie) throw new Error(`sign-in answered ${res.status} without a cookie`);
  return cookie;
}

/** The status /ui answers a cookie with: 200 for a live session, 303 to sign-in for none. */
async function dashboardStatus(baseUrl: string, cookie: string): Promise<number> {
  const res = await fetch(`${baseUrl}/ui`, { redirect: 'manual', headers: { cookie } });
  await res.arrayBuffer();
  return res.status;
}

const rejectionAlerts = (requests: readonly RecordedRequest[]) =>
  requests
    .map((r) => (r.json as { type?: string; data?: { data?: Record<string, unknown> } } | undefined) ?? {})
    .filter((e) => e.type === 'skyrelay.rejection')
    .map((e) => e.data?.data ?? {});

describePostgres(
  'skyrelay migrate-store: what waits on SQLite carries on from PostgreSQL (real daemons, receivers, PostgreSQL)',
  function () {
    this.timeout(90_000);
    let r: Receivers;
    let sqlite: TestDaemon;
    let postgres: TestDaemon | undefined;
    let db: TestDatabase;
    /** The failure the group sent at once on SQLite, and the three waiting for its next message when it stopped. */
    let sent: string;
    let waiting: string[];
    let lastFlushMs: number;
    let deadDelivery: string;
    let pendingDelivery: string;
    /** A control number a silence made on SQLite covers: it arrives only after the move. */
    let silenced: string;
    let silenceId: string;
    let signedOut: string;
    let signedIn: string;

    before(async () => {
      r = { slack: await startReceiver(), ledger: await startReceiver(), ops: await startReceiver() };
      // Nothing of the group's next message, or of the folded rejections' summary, is due before the move.
      sqlite = await startTestDaemon(deployment(r, { intervalMs: 3_600_000, rejectionWindowMs: 3_600_000 }));
      const store = sqlite.daemon.store;

      sent = nextControlNumber(PREFIX);
      await sendAccepted(
        sqlite.callbackUrl,
        buildCallback({ payType: '4', controlNumber: sent, failDescription: 'x' }),
      );
      await r.slack.waitFor(1);
      waiting = [nextControlNumber(PREFIX), nextControlNumber(PREFIX), nextControlNumber(PREFIX)];
      for (const controlNumber of waiting) {
        await sendAccepted(sqlite.callbackUrl, buildCallback({ payType: '4', controlNumber, failDescription: 'down' }));
      }

      // A paid payout the ledger refuses for good (dead), then one it asks to retry later (pending).
      r.ledger.respondOnce(replies.badRequest('no_such_account'));
      const dead = buildCallback({ payType: '2' });
      await sendAccepted(sqlite.callbackUrl, dead);
      r.ledger.respondWith(replies.rateLimited('1'));
      const pending = buildCallback({ payType: '2' });
      await sendAccepted(sqlite.callbackUrl, pending);
      await waitUntil(async () => {
        const [d] = (await store.findEventsByControlNumber(String(dead['controlNumber'])))[0]?.deliveries ?? [];
        const [p] = (await store.findEventsByControlNumber(String(pending['controlNumber'])))[0]?.deliveries ?? [];
        deadDelivery = d?.state === 'dead' ? d.id : '';
        pendingDelivery = p?.state === 'pending' && p.attempts > 0 ? p.id : '';
        return deadDelivery !== '' && pendingDelivery !== '';
      }, 'one ledger delivery dead and one pending after a 429');

      // A silence made with the CLI, as an operator would (its audit columns filled from the OS user).
      silenced = nextControlNumber(PREFIX);
      const made = await runCli(
        ['silence', 'add', '--match', `controlNumber=${silenced}`, '--for', '2h', '--comment', 'bank maintenance'],
        { store: { path: sqlite.dbPath } },
      );
      expect(made.code, made.stderr).to.equal(0);
      silenceId = /^(sil_\S+):/.exec(made.stdout)?.[1] ?? '';

      // Three refused callbacks of one reason: the first alerted at once, two folded into a summary not sent yet.
      for (let i = 0; i < 3; i++) {
        expect((await postCallback(sqlite.callbackUrl, buildCallback({ payType: '9' }))).status).to.equal(400);
      }
      await r.ops.waitFor((rs) => rejectionAlerts(rs).length === 1);

      // Two dashboard sessions: one signed out (its cookie must stay refused), one kept.
      signedOut = await signIn(sqlite.baseUrl);
      signedIn = await signIn(sqlite.baseUrl);
      const page = await fetch(`${sqlite.baseUrl}/ui`, { headers: { cookie: signedOut } });
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
      const out = await fetch(`${sqlite.baseUrl}/ui/sign-out`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: signedOut },
        body: new URLSearchParams({ _csrf: csrf }),
      });
      expect(out.status).to.equal(303);
      expect(await dashboardStatus(sqlite.baseUrl, signedOut)).to.equal(303);

      await waitUntil(
        async () => (await store.listPendingGroups()).some((g) => g.members === 3),
        'three failures waiting in the group',
      );
      await sqlite.stop();
      db = await createTestDatabase();
    });

    after(async () => {
      await postgres?.stop();
      await db?.drop();
      await Promise.all([r?.slack.close(), r?.ledger.close(), r?.ops.close()]);
    });

    it('copies every table a daemon goes on from, row for row, and `show` names the grouped destination on both', async () => {
      const before = await runCli(['show', waiting[0] ?? ''], { store: { path: sqlite.dbPath } });
      expect(before.stdout).to.match(/grouped → ops-slack: waiting in its group since \S+, rules problems/);
      const [group] = await withStore(sqlite.dbPath, (s) => s.listPendingGroups());
      expect(group).to.include({ destination: 'ops-slack', members: 3 });
      lastFlushMs = group?.lastFlushMs ?? 0;
      expect(lastFlushMs).to.be.above(0);

      const run = await runCli(['migrate-store', '--to', db.url], { store: { path: sqlite.dbPath } });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/ 4 group_members, 1 group_windows, /);
      expect(run.stdout).to.match(
        / 1 alert_windows, [1-9]\d* destination_slots, \d+ destination_states, [1-9]\d* metric_series, /,
      );
      expect(run.stdout).to.match(/ [1-9]\d* callback_minutes, 1 ui_sessions_ended, 0 ledger_days, 0 payout_order$/m);
      expect(run.stdout).to.match(
        /^not copied \(written again by each daemon, or counted again from the copied rows\): metric_processes, health_probe, job_locks, rejection_quota, payout_counts, destination_activity$/m,
      );
      expect(await readCopiedTables({ url: db.url })).to.deep.equal(await readCopiedTables(sqlite.dbPath));

      const after = await runCli(['show', waiting[0] ?? ''], { store: { url: db.url } });
      expect(after.code, after.stderr).to.equal(0);
      expect(after.stdout).to.equal(before.stdout);
      const silences = await runCli(['silence', 'list'], { store: { url: db.url } });
      expect(silences.stdout).to.contain(silenceId).and.to.contain('bank maintenance');
    });

    it('sends the three waiting failures to Slack in one message, when the copied group window allows', async () => {
      r.ledger.respondWith(replies.ok());
      // The group's next message is due 1.5 s after this daemon starts, counted from the one it sent on SQLite:
      // without the copied window it would go at once.
      const intervalMs = Date.now() - lastFlushMs + 1500;
      postgres = await startTestDaemon({
        ...deployment(r, { intervalMs, rejectionWindowMs: 500 }),
        store: { url: db.url },
      });
      const messages = await r.slack.waitFor(2, 15_000);
      const [first, second] = [...readGroupMessages(messages, NAMED).values()];
      expect(first).to.deep.equal([sent]);
      expect([...(second ?? [])].sort()).to.deep.equal([...waiting].sort());
      expect(messages[1]?.receivedAt).to.be.at.least(lastFlushMs + intervalMs);
      await waitUntil(
        async () =>
          (await postgres?.daemon.store.getEvent(await eventOf(waiting[2])))?.groups[0]?.state === 'delivered',
        'the group message delivered',
      );
      const shown = await runCli(['show', waiting[2] ?? ''], { store: { url: db.url } });
      expect(shown.stdout).to.match(
        /grouped → ops-slack: carried by group message evt_\S+ \(delivery dlv_\S+: delivered\)/,
      );
      expect(r.slack.requests).to.have.length(2);
    });

    it('delivers the delivery that was pending, replays the dead one, and the silence still holds', async () => {
      const store = postgres?.daemon.store;
      if (!store) throw new Error('no daemon on PostgreSQL');
      await waitUntil(
        async () =>
          (await store.listDeliveries({ state: 'delivered', limit: ALL })).some((d) => d.id === pendingDelivery),
        'the delivery pending on SQLite delivered from PostgreSQL',
      );
      const carried = (await store.listDeliveries({ limit: ALL })).find((d) => d.id === pendingDelivery);
      const detail = await store.getEvent(carried?.eventId ?? '');
      const log = detail?.deliveries[0]?.attemptLog.map((a) => a.status) ?? [];
      expect(log.length, 'the 429s on SQLite, then the 200').to.be.at.least(2);
      expect(log.slice(0, -1).every((s) => s === 429)).to.equal(true);
      expect(log.at(-1)).to.equal(200);

      const replay = await runCli(['replay', deadDelivery], { store: { url: db.url } });
      expect(replay.code, replay.stderr).to.equal(0);
      await r.ledger.waitFor((rs) => rs.some((q) => q.headers['webhook-id'] === deadDelivery));
      await waitUntil(
        async () => (await store.listDeliveries({ state: 'delivered', limit: ALL })).some((d) => d.id === deadDelivery),
        'the replayed delivery delivered',
      );

      await sendAccepted(postgres?.callbackUrl ?? '', buildCallback({ payType: '4', controlNumber: silenced }));
      const [event] = await store.findEventsByControlNumber(silenced);
      expect(event?.silenced).to.deep.equal([{ destination: 'ops-slack', silenceId, rules: ['problems'] }]);
      expect(event?.groups).to.deep.equal([]);
      expect((await store.listPendingGroups()).length, 'nothing joined a group').to.equal(0);
    });

    it('sends the summary of the rejections folded on SQLite, and a signed-out session stays refused', async () => {
      const alerts = rejectionAlerts(await r.ops.waitFor((rs) => rejectionAlerts(rs).length === 2, 10_000));
      expect(alerts[1]).to.include({ reason: 'invalid', folded: 2, summary: true });

      const baseUrl = postgres?.baseUrl ?? '';
      expect(await dashboardStatus(baseUrl, signedIn), 'a session kept on SQLite goes on').to.equal(200);
      expect(await dashboardStatus(baseUrl, signedOut), 'a signed-out one stays signed out').to.equal(303);
    });

    async function eventOf(controlNumber: string | undefined): Promise<string> {
      const [found] = (await postgres?.daemon.store.findEventsByControlNumber(controlNumber ?? '')) ?? [];
      return found?.event.id ?? '';
    }
  },
);
