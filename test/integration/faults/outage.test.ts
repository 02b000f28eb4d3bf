import { expect } from 'chai';
import type { AttemptReport } from '../../../src/delivery/types';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { ALL, withStore } from '../../support/store';
import { startReceiver, type Receiver } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';

const MAX_BACKOFF_MS = 800;

/**
 * The consumer goes away (connections refused) while callbacks keep coming,
 * stays away long enough for every delivery to be retried several times,
 * then comes back on the same address: everything arrives, within one
 * maximum backoff of the recovery, and nothing is given up as dead.
 */
describe('receiver outage: the consumer refuses connections for a while, then recovers', function () {
  this.timeout(60_000);
  let t: TestDaemon;
  let receiver: Receiver;
  const attempts: AttemptReport[] = [];

  before(async () => {
    receiver = await startReceiver();
    t = await startTestDaemon(
      {
        destinations: {
          consumer: {
            type: 'webhook',
            url: `${receiver.url}/hook`,
            secret: `whsec_${Buffer.alloc(32, 5).toString('base64')}`,
            // The retry schedule alone: with a breaker, sends stop at its threshold (breaker-outage.test.ts).
            breaker: false,
          },
        },
        rules: [{ name: 'all', to: ['consumer'] }],
        delivery: {
          initialBackoffMs: 50,
          maxBackoffMs: MAX_BACKOFF_MS,
          maxAttempts: 30,
          timeoutMs: 1_000,
          pollIntervalMs: 200,
        },
      },
      { hooks: { onAttempt: (report) => attempts.push(report) } },
    );
  });
  after(async () => {
    await t.stop();
    await receiver.close();
  });

  it('delivers everything once the consumer is back, in retry time, with nothing dead', async () => {
    const { port } = receiver;
    const before = buildCallback({ payType: '2' });
    expect((await postCallback(t.callbackUrl, before)).json?.['responseCode']).to.equal('1000');
    await waitUntil(() => attempts.some((a) => a.attempt.outcome === 'delivered'), 'the first delivery to be recorded');
    await receiver.close();

    // Callbacks keep arriving during the outage and are acknowledged: storing does not depend on the consumer.
    const during = Array.from({ length: 30 }, (_, i) => buildCallback({ payType: String(1 + (i % 6)) }));
    for (const body of during)
      expect((await postCallback(t.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
    const retriesOf = (cn: unknown): number =>
      attempts.filter(
        (a) => a.attempt.outcome === 'retry' && (a.delivery.event as { controlNumber?: string }).controlNumber === cn,
      ).length;
    await waitUntil(
      () => during.every((b) => retriesOf(b['controlNumber']) >= 5),
      'every delivery to be refused five times (backoff at its cap)',
      20_000,
    );
    expect(attempts.filter((a) => a.attempt.outcome === 'retry')[0]?.attempt.error).to.match(/ECONNREFUSED|refused/i);

    const back = await startReceiver({ port });
    const recoveredAt = Date.now();
    try {
      const wanted = new Set(during.map((b) => String(b['controlNumber'])));
      const got = await back.waitFor(
        (rs) => [...wanted].every((cn) => rs.some((r) => r.body.includes(`"controlNumber":"${cn}"`))),
        10_000,
      );
      const took = Date.now() - recoveredAt;
      expect(took, 'all delivered within one maximum backoff (plus a poll) of the recovery').to.be.lessThan(
        MAX_BACKOFF_MS + 1_500,
      );
      expect(got.every((r) => r.headers['webhook-id'] !== undefined)).to.equal(true);
    } finally {
      await back.close();
    }
    const all = { delivered: during.length + 1 };
    await waitUntil(
      async () => JSON.stringify(await readStates(t.dbPath)) === JSON.stringify(all),
      'every delivery to be recorded as delivered',
      5_000,
    );
    expect(attempts.filter((a) => a.attempt.outcome === 'dead')).to.deep.equal([]);
  });
});

async function readStates(dbPath: string): Promise<Record<string, number>> {
  const deliveries = await withStore(dbPath, (store) => store.listDeliveries({ limit: ALL }));
  const states: Record<string, number> = {};
  for (const d of deliveries) states[d.state] = (states[d.state] ?? 0) + 1;
  return states;
}
