/**
 * Issue 9 §2: PostgreSQL stopped for 10 s under a steady stream of callbacks. While it is down the daemon
 * refuses with 503 (never 1000) and /readyz is red; once it is back, the same daemon (no restart) acknowledges
 * again and /readyz is green. Every acknowledged callback is stored exactly once; a refused one is stored only
 * if SkyPay's operator resent it and it was acknowledged then.
 */
import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import {
  createTestDatabase,
  describePostgres,
  startPostgres,
  stopPostgres,
  type TestDatabase,
} from '../../support/postgres';
import { postCallback } from '../../support/skypay';
import { ALL, withStore } from '../../support/store';
import { startTraffic, type Traffic } from '../../support/traffic';

const OUTAGE_MS = 10_000;

interface Answer {
  controlNumber: string;
  body: Record<string, unknown>;
  answer: string;
  sentAt: number;
  answeredAt: number;
}

describePostgres(
  'PostgreSQL outage under load: 503 and red readiness while down, 1000 again without a restart',
  function () {
    this.timeout(40_000);
    let db: TestDatabase;
    let t: TestDaemon;
    let traffic: Traffic | undefined;
    let down = false;
    const answers: Answer[] = [];

    before(async () => {
      db = await createTestDatabase();
      t = await startTestDaemon({ store: { url: db.url } });
    });

    after(async () => {
      await traffic?.stop();
      if (down) await startPostgres();
      await t?.stop();
      await db?.drop();
    });

    const readiness = async (): Promise<number> => {
      const res = await fetch(`${t.baseUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
      await res.body?.cancel();
      return res.status;
    };

    it('refuses while the database is down and acknowledges again once it is back', async () => {
      traffic = startTraffic(() => t.callbackUrl, {
        senders: 4,
        pauseMs: 20,
        onAnswer: (body, answer, sentAt) =>
          answers.push({ controlNumber: String(body['controlNumber']), body, answer, sentAt, answeredAt: Date.now() }),
      });
      await traffic.waitForAcks(30);
      expect(await readiness(), '/readyz before the outage').to.equal(200);

      // Before the await: if the test fails while the server is stopping, after() still brings it back.
      down = true;
      await stopPostgres();
      const downFrom = Date.now();
      await waitUntil(async () => (await readiness()) === 503, '/readyz to turn red while PostgreSQL is down', 5_000);
      const readinessWhileDown: number[] = [];
      while (Date.now() - downFrom < OUTAGE_MS) {
        readinessWhileDown.push(await readiness());
        await new Promise((r) => setTimeout(r, 500));
      }
      const downUntil = Date.now();
      await startPostgres();
      down = false;

      const whileDown = answers.filter((a) => a.sentAt >= downFrom && a.answeredAt <= downUntil);
      expect(whileDown.length, 'callbacks answered while PostgreSQL was down').to.be.greaterThan(50);
      const statuses = new Set(whileDown.map((a) => a.answer));
      expect([...statuses], 'answers while PostgreSQL was down: 503 only, never 1000 nor a 500').to.deep.equal(['503']);
      expect(new Set(readinessWhileDown), '/readyz all through the outage').to.deep.equal(new Set([503]));

      // Same daemon, no restart: it takes callbacks and turns ready again on its own.
      await waitUntil(async () => (await readiness()) === 200, '/readyz to turn green again', 10_000);
      await traffic.waitForAcks(30, 10_000);
      await traffic.stop();

      // SkyPay's operator resends some of the refused callbacks: acknowledged now, and stored once.
      const refused = answers.filter((a) => a.answer !== '1000');
      const resent = refused.slice(0, 20);
      for (const a of resent) {
        const reply = await postCallback(t.callbackUrl, a.body);
        expect(reply.json?.['responseCode'], `resent ${a.controlNumber}`).to.equal('1000');
      }

      const acked = new Set([...answers.filter((a) => a.answer === '1000'), ...resent].map((a) => a.controlNumber));
      const neverAcked = new Set(refused.map((a) => a.controlNumber).filter((cn) => !acked.has(cn)));
      const stored = await withStore({ url: db.url }, (store) => store.listEvents({ type: 'payout', limit: ALL }));
      const times = new Map<string, number>();
      for (const e of stored) times.set(String(e.controlNumber), (times.get(String(e.controlNumber)) ?? 0) + 1);

      const missing = [...acked].filter((cn) => times.get(cn) !== 1);
      expect(missing, 'acknowledged callbacks not stored exactly once').to.deep.equal([]);
      const storedAnyway = [...neverAcked].filter((cn) => times.has(cn));
      expect(storedAnyway, 'refused (and never resent) callbacks that were stored').to.deep.equal([]);
      expect(stored.length, 'stored events: exactly the acknowledged ones').to.equal(acked.size);
    });
  },
  { stopsServer: true },
);
