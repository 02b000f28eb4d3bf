import { expect } from 'chai';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { note } from '../../support/notes';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';
import { startReceiver, type Receiver } from '../../support/receiver';
import { startSmtpServer, type SmtpServerHandle } from '../../support/smtp';
import { waitUntil } from '../../support/wait';
import { ACME, admin, eventOf, postFailure, silenceConfig } from '../alerts/silence-setup';

/** silences.refreshIntervalMs as configured: a silence made on one host holds on the others within this. */
const REFRESH_MS = 1_000;

describePostgres('silences across two daemons on one PostgreSQL database', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let a: TestDaemon;
  let b: TestDaemon;
  let slack: Receiver;
  let ledger: Receiver;
  let smtp: SmtpServerHandle;

  before(async () => {
    db = await createTestDatabase();
    [slack, ledger, smtp] = await Promise.all([startReceiver(), startReceiver(), startSmtpServer()]);
    const overrides = {
      ...silenceConfig(slack, smtp, ledger),
      store: { url: db.url },
      silences: { refreshIntervalMs: REFRESH_MS },
    };
    a = await startTestDaemon(overrides);
    b = await startTestDaemon(overrides);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all([slack.close(), ledger.close(), smtp.close()]);
    await db?.drop();
  });

  /** Posts failures to `to` until one's event is (or is no longer) silenced; the time that took. */
  async function msUntil(to: TestDaemon, silenced: boolean): Promise<number> {
    const start = Date.now();
    await waitUntil(async () => {
      const control = await postFailure(to, ACME);
      return (await eventOf(to.baseUrl, control)).silenced.length > 0 === silenced;
    }, 5 * REFRESH_MS);
    return Date.now() - start;
  }

  it('holds a silence made through one daemon on the other within a refresh, and lifts its expiry as fast', async () => {
    const made = await admin(a.baseUrl, 'POST', '/admin/silences', {
      matchers: { payType: 'failure', partner: ACME },
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'alice',
      comment: 'Acme outage',
    });
    expect(made.status).to.equal(201);
    // The daemon it was made through applies it at once.
    expect((await eventOf(a.baseUrl, await postFailure(a, ACME))).silenced).to.have.length(2);
    const held = await msUntil(b, true);
    // Both see the same silence and audit.
    const listed = await admin(b.baseUrl, 'GET', '/admin/silences');
    expect((listed.json['items'] as { id: string }[]).map((s) => s.id)).to.deep.equal([made.json['id']]);

    const expired = await admin(a.baseUrl, 'DELETE', `/admin/silences/${String(made.json['id'])}?expiredBy=bob`);
    expect(expired.status).to.equal(200);
    const lifted = await msUntil(b, false);
    note(`on the other daemon: silence held after ${held} ms, expiry took effect after ${lifted} ms`);
    // msUntil gives up after five refresh intervals: both took effect through the other daemon's refresh, not a
    // restart. No tighter wall-clock bound: on a busy machine a refresh's read waits for the CPU too.
  });
});
