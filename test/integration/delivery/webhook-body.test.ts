import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import type { IncomingHttpHeaders } from 'node:http';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { replies, startReceiver, type Receiver } from '../../support/receiver';
import { deriveAesKey, encryptBody } from '../../../src/skypay/crypto';
import {
  SAMPLE_AUTH,
  SAMPLE_ENCRYPT_KEY,
  SAMPLE_PARTNER,
  buildCallback,
  nextControlNumber,
  postCallback,
} from '../../support/skypay';
import { stringifyEvent } from '../../../src/event-json';

const CRYPTO_PARTNER = 'Sealed@skypay';
const CRYPTO_AUTH = 'SEALED-PARTNER-KEY-0000-1111';
const ADMIN_TOKEN = 'webhook-body-admin-token-0123';
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
      admin: { token: ADMIN_TOKEN },
      skypay: {
        partners: [
          { userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH] },
          { userName: CRYPTO_PARTNER, authentication: [CRYPTO_AUTH], encryptKeys: [SAMPLE_ENCRYPT_KEY] },
        ],
      },
      destinations: { ledger: { type: 'webhook', url: `${consumer.url}/hooks`, secret: SECRET } },
      rules: [{ name: 'ledger-feed', to: ['ledger'] }],
      delivery: { initialBackoffMs: 50, maxBackoffMs: 100 },
    });
  });
  afterEach(async () => {
    await t.stop();
    await consumer.close();
  });

  it('sends the same bytes on a retry after a 503, timestamped with the event time, each attempt signed', async () => {
    consumer.respondOnce(replies.unavailable());
    const body = buildCallback({ payType: '2', referenceNumber: 'REF-RETRY-1' });
    expect((await postCallback(t.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
    const [first, second] = await consumer.waitFor(2, 10_000);
    expect(second?.body).to.equal(first?.body);
    for (const r of [first, second]) {
      expect(() => new Webhook(SECRET).verify(r?.body ?? '', flatten(r?.headers ?? {}))).not.to.throw();
    }
    const envelope = first?.json as { timestamp: string; data: { receivedAt: string } };
    expect(envelope.timestamp).to.equal(envelope.data.receivedAt);
  });

  /** SkyPay's JSON as text, with numbers JSON.parse cannot hold and a layout of its own. */
  const sentText = (userName: string, auth: string, cn: string): string =>
    `{"userName":"${userName}",` +
    `"action":"payoutQueuePayout","authentication":"${auth}","controlNumber":"${cn}","payType":"2",` +
    '"dealTime":"2018-08-07 11:58:33", "amount": 12345678901234567890.123, "fee": 1.10, "huge": 1e400,' +
    ' "detail": {"rate": 0.10, "parts": [1.50, 2e3]}}';
  const EXACT = [
    '"amount":12345678901234567890.123',
    '"fee":1.10',
    '"huge":1e400',
    '"detail":{"rate": 0.10, "parts": [1.50, 2e3]}',
  ];

  for (const transport of ['application/json', 'encrypted text/plain'] as const) {
    it(`keeps extra fields as the exact JSON text SkyPay sent (${transport}): stored, forwarded, shown`, async () => {
      const cn = nextControlNumber();
      const encrypted = transport !== 'application/json';
      const text = encrypted ? sentText(CRYPTO_PARTNER, CRYPTO_AUTH, cn) : sentText(SAMPLE_PARTNER, SAMPLE_AUTH, cn);
      const reply = await postCallback(
        t.callbackUrl,
        undefined,
        encrypted
          ? { raw: encryptBody(text, deriveAesKey(SAMPLE_ENCRYPT_KEY)), contentType: 'text/plain' }
          : { raw: text },
      );
      expect(reply.status, reply.text).to.equal(200);
      const [request] = await consumer.waitFor(1);
      for (const exact of EXACT) expect(request?.body).to.include(exact);
      expect(() => new Webhook(SECRET).verify(request?.body ?? '', flatten(request?.headers ?? {}))).not.to.throw();
      const stored = await t.daemon.store.findEventsByControlNumber(cn);
      expect(stored).to.have.length(1);
      // What the store wrote and reads back, as text: the exact numbers survive the round trip through the disk.
      const storedText = stringifyEvent(stored[0]!.event);
      for (const exact of EXACT) expect(storedText).to.include(exact);
      const id = stored[0]!.event.id;
      const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const detail = await fetch(`${t.baseUrl}/admin/events/${id}`, { headers: auth });
      const detailText = await detail.text();
      for (const exact of EXACT) expect(detailText).to.include(exact);
    });
  }
});
