import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { replies, startReceiver, type Receiver } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';

const SECRET = `whsec_${Buffer.from('metrics-test-signing-secret-001').toString('base64')}`;

async function scrape(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`);
  expect(res.status).to.equal(200);
  expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one exposed sample, e.g. `skyrelay_callbacks_total{outcome="accepted"}`; 0 when absent. */
function valueOf(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

describe('GET /metrics', function () {
  this.timeout(20_000);
  let a: TestDaemon;
  let b: TestDaemon | undefined;
  let ok: Receiver;
  let down: Receiver;

  before(async () => {
    [ok, down] = await Promise.all([startReceiver(), startReceiver()]);
    down.respondWith(replies.unavailable());
    const config = {
      destinations: {
        ok: { type: 'webhook', url: `${ok.url}/in`, secret: SECRET },
        down: { type: 'webhook', url: `${down.url}/in`, secret: SECRET },
      },
      rules: [
        { name: 'all', to: ['ok'] },
        { name: 'fail', match: { status: 'failure' }, to: ['down'] },
      ],
      metrics: { publishIntervalMs: 100 },
      delivery: { pollIntervalMs: 100, initialBackoffMs: 60_000, maxBackoffMs: 60_000 },
    };
    a = await startTestDaemon(config);
    b = await startTestDaemon(config, { dbPath: a.dbPath });
  });
  after(async () => {
    await b?.stop();
    await a.stop();
    await Promise.all([ok.close(), down.close()]);
  });

  it('counts callbacks by outcome and rejection reason, deliveries by destination and outcome, and the queue', async () => {
    const paid = buildCallback({ payType: '2' });
    await postCallback(a.callbackUrl, paid);
    await postCallback(a.callbackUrl, paid);
    await postCallback(a.callbackUrl, buildCallback({ payType: '4' }));
    await postCallback(a.callbackUrl, buildCallback({ authentication: 'WRONG' }));
    await ok.waitFor(2);
    await down.waitFor(1);
    // Either process may have made the attempts; each publishes within publishIntervalMs, and a scrape only reads.
    await waitUntil(async () => {
      const text = await scrape(a.baseUrl);
      return (
        valueOf(text, 'skyrelay_delivery_attempts_total{destination="down",outcome="retry"}') === 1 &&
        valueOf(text, 'skyrelay_delivery_attempts_total{destination="ok",outcome="delivered"}') === 2 &&
        valueOf(text, 'skyrelay_callbacks_total{outcome="refused",reason="unauthenticated"}') === 1 &&
        valueOf(text, 'skyrelay_delivery_attempt_duration_seconds_count{destination="ok"}') === 2
      );
    }, 'the callbacks and attempts to be published');
    const text = await scrape(a.baseUrl);
    expect(valueOf(text, 'skyrelay_callbacks_total{outcome="accepted"}')).to.equal(2);
    expect(valueOf(text, 'skyrelay_callbacks_total{outcome="duplicate"}')).to.equal(1);
    expect(valueOf(text, 'skyrelay_callbacks_total{outcome="refused",reason="unauthenticated"}')).to.equal(1);
    expect(valueOf(text, 'skyrelay_callback_duration_seconds_count{outcome="accepted"}')).to.equal(2);
    expect(valueOf(text, 'skyrelay_callback_duration_seconds_bucket{le="+Inf",outcome="accepted"}')).to.equal(2);
    expect(valueOf(text, 'skyrelay_delivery_attempts_total{destination="ok",outcome="delivered"}')).to.equal(2);
    expect(valueOf(text, 'skyrelay_delivery_attempt_duration_seconds_count{destination="ok"}')).to.equal(2);
    expect(valueOf(text, 'skyrelay_deliveries_pending{destination="down"}')).to.equal(1);
    expect(valueOf(text, 'skyrelay_deliveries_pending{destination="ok"}')).to.equal(0);
    expect(valueOf(text, 'skyrelay_deliveries_dead{destination="down"}')).to.equal(0);
    expect(valueOf(text, 'skyrelay_oldest_pending_delivery_age_seconds')).to.be.greaterThan(0);
    // Default process metrics, one series per live process.
    expect(text).to.match(new RegExp(`^process_resident_memory_bytes\\{pid="${process.pid}"\\} \\d+`, 'm'));
  });

  it('answers for every process on the database, whichever one is scraped, and keeps totals when one stops', async () => {
    const before = valueOf(await scrape(a.baseUrl), 'skyrelay_callbacks_total{outcome="accepted"}');
    for (let i = 0; i < 3; i++) await postCallback(b?.callbackUrl ?? '', buildCallback({ payType: '2' }));
    await waitUntil(
      async () => valueOf(await scrape(a.baseUrl), 'skyrelay_callbacks_total{outcome="accepted"}') === before + 3,
      'process A to report what process B counted',
    );
    await waitUntil(
      async () => valueOf(await scrape(a.baseUrl), 'skyrelay_metrics_processes') === 2,
      'both processes to publish',
    );
    await b?.stop();
    b = undefined;
    const after = await scrape(a.baseUrl);
    // A counter that dropped when a worker is replaced would read as a reset in Prometheus.
    expect(valueOf(after, 'skyrelay_callbacks_total{outcome="accepted"}')).to.equal(before + 3);
    expect(valueOf(after, 'skyrelay_metrics_processes')).to.equal(1);
  });
});
