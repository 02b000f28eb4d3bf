import { expect } from 'chai';
import fc from 'fast-check';
import { identityOf } from '../../support/callback-oracle';
import { CRYPTO_PARTNER, FUZZ_BODY_LIMIT_BYTES, fuzzRequest, type FuzzRequest } from '../../support/bad-requests';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';
import { startReceiver, type Receiver } from '../../support/receiver';
import { decryptReply } from '../../support/skypay';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 2500);
const WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;

interface Answer {
  status: number;
  code: string | undefined;
}

/** Posts one generated request exactly as generated: no content type is added when there is none. */
async function send(url: string, r: FuzzRequest): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (r.contentType !== undefined) headers['content-type'] = r.contentType;
  if (r.contentEncoding !== undefined) headers['content-encoding'] = r.contentEncoding;
  const res = await fetch(url, { method: 'POST', headers, body: new Uint8Array(r.body) });
  const text = await res.text();
  return { status: res.status, code: readCode(text) };
}

/** The reply's responseCode, whether it came back as JSON or encrypted under the crypto partner's key. */
function readCode(text: string): string | undefined {
  for (const open of [
    (t: string) => JSON.parse(t) as unknown,
    (t: string) => decryptReply(t, CRYPTO_PARTNER.encryptKey as string),
  ]) {
    try {
      const reply = open(text) as { responseCode?: unknown };
      if (typeof reply.responseCode === 'string') return reply.responseCode;
    } catch {
      // Not this form; try the next.
    }
  }
  return undefined;
}

/**
 * The property against a running daemon whose store `openStore` gives (the temp SQLite file by default, or a
 * PostgreSQL database), judged the same way on both.
 */
function fuzzSuite(runs: number, openStore: () => Promise<Record<string, unknown>>, closeStore: () => Promise<void>) {
  return function (this: Mocha.Suite): void {
    this.timeout(120_000);
    let t: TestDaemon;
    let receiver: Receiver;
    const acked = new Set<string>();
    const tally = { ack: 0, refuse: 0, either: 0 };

    before(async () => {
      receiver = await startReceiver();
      const store = await openStore();
      t = await startTestDaemon({
        store,
        server: { bodyLimit: `${FUZZ_BODY_LIMIT_BYTES / 1024}kb` },
        skypay: {
          partners: [
            { userName: 'AppName@skypay', authentication: ['30AC21B2-9EAA-4503-B0F0-7BE5C277ED75'], encryptKeys: [] },
            {
              userName: CRYPTO_PARTNER.userName,
              authentication: CRYPTO_PARTNER.authentication,
              encryptKeys: [CRYPTO_PARTNER.encryptKey],
            },
          ],
        },
        destinations: {
          consumer: { type: 'webhook', url: `${receiver.url}/hook`, secret: WEBHOOK_SECRET, maxInFlight: 16 },
        },
        rules: [{ name: 'all', to: ['consumer'] }],
        log: { level: 'warn' },
      });
    });
    after(async () => {
      await t.stop();
      await receiver.close();
      await closeStore();
    });

    it(`never answers 500, never acknowledges an invalid body, and acknowledges every valid one (${runs} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(fuzzRequest, async (r) => {
          const answer = await send(t.callbackUrl, r);
          tally[r.expect] += 1;
          const context = `${r.label} (${r.contentType ?? 'no content type'}) → ${answer.status} ${answer.code ?? ''}`;
          expect(answer.status, context).to.be.oneOf([200, 400, 401, 413, 415]);
          if (r.expect === 'refuse') expect(answer.code, context).not.to.equal('1000');
          if (r.expect === 'ack') expect([answer.status, answer.code], context).to.deep.equal([200, '1000']);
          if (answer.code === '1000') {
            expect(r.identity, `${context}: acknowledged without a valid identity`).to.be.a('string');
            acked.add(r.identity as string);
          }
        }),
        { numRuns: runs, endOnFailure: true },
      );
      // The generators must really reach both sides, or the property proves little.
      expect(tally.ack).to.be.greaterThan(runs / 10);
      expect(tally.refuse).to.be.greaterThan(runs / 2);
    });

    it('stayed up and healthy, and logged no internal error', async () => {
      const health = await fetch(`${t.baseUrl}/healthz`);
      expect(health.status).to.equal(200);
      const ready = await fetch(`${t.baseUrl}/readyz`);
      expect(ready.status, 'bad input must never look like a storage failure').to.equal(200);
      expect(t.logs.filter((l) => l.includes('"reason":"internal"'))).to.deep.equal([]);
    });

    it('delivered every acknowledged callback to the consumer, and nothing that was refused', async () => {
      const delivered = (): Set<string> =>
        new Set(
          receiver.requests.map((req) => {
            const data = (req.json as { data?: { controlNumber: string; payType: number; dealTime: string } }).data;
            return data ? identityOf(data.controlNumber, data.payType, data.dealTime) : 'not an event';
          }),
        );
      await waitUntil(
        () => [...acked].every((id) => delivered().has(id)),
        'every acknowledged callback to be delivered',
        30_000,
      );
      expect([...delivered()].filter((id) => !acked.has(id))).to.deep.equal([]);
    });
  };
}

describe(
  'fuzzing the callback endpoint with generated bodies (fast-check)',
  fuzzSuite(
    RUNS,
    () => Promise.resolve({}),
    () => Promise.resolve(),
  ),
);

// The store decides only what is kept and delivered, so a fifth of the runs shows PostgreSQL keeps the same promises.
let db: TestDatabase | undefined;
describePostgres(
  'fuzzing the callback endpoint on PostgreSQL (fast-check)',
  fuzzSuite(
    Math.ceil(RUNS / 5),
    async () => {
      db = await createTestDatabase();
      return { url: db.url };
    },
    async () => {
      await db?.drop();
    },
  ),
);
