import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import type { IncomingHttpHeaders } from 'node:http';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { replies, startReceiver, type Receiver } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';

const SECRET = `whsec_${Buffer.from('webhook-body-test-signing-key-42').toString('base64')}`;

const flatten = (headers: IncomingHttpHeaders): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));

describe('webhook bodies through the running daemon', function () {
  this.timeout(20_000);
  let consumer: Receiver;
  let t: TestDaemon;

  beforeEach(async () => {
    consumer = await startReceiver();
    t = await startTestDaemon({
      destinations: { ledger: { type: 'webhook', url: `${consumer.url}/hooks`, secret: SECRET } },
      rules: [{ name: 'ledger-feed', to: ['ledger'] }],
      delivery: { initialBackoffMs: 50, maxBackoffMs: 100 },
    });
  });
  afterEach(async () => {
    await t.stop();
    await consumer.close();
  });

  it('sends a byte-identical body on a retry after a 503, with the event time as timestamp, each attempt validly signed', async () => {
    consumer.respondOnce(replies.unavailable());
    const body = buildCallback({ payType: '2', referenceNumber: 'REF-RETRY-1' });
    expect((await postCallback(t.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
    const [first, second] = await consumer.waitFor(2, 10_000);
    expect(second?.body).to.equal(first?.body);
    for (const r of [first, second]) expect(() => new Webhook(SECRET).verify(r?.body ?? '', flatten(r?.headers ?? {}))).not.to.throw();
    const envelope = first?.json as { timestamp: string; data: { receivedAt: string } };
    expect(envelope.timestamp).to.equal(envelope.data.receivedAt);
  });
});
