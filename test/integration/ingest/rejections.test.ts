import { expect } from 'chai';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { SAMPLE_AUTH, buildCallback, postCallback } from '../../support/skypay';
import { sqliteHandle } from '../../support/sqlite';
import { ALL } from '../../support/store';
import type { RejectionDetail } from '../../../src/store/types';

/** Every authentication failure reads the same to the client: the row and the log line say which. */
const AUTHENTICATION_FAILED = /^authentication failed: check userName, the authentication key and the encrypt key$/;

describe('rejected callbacks', () => {
  let t: TestDaemon;
  before(async () => {
    t = await startTestDaemon({ server: { bodyLimit: '2kb' } });
  });
  after(async () => {
    await t.stop();
  });

  const keptIds = async (): Promise<string[]> => (await t.daemon.store.listRejections({ limit: ALL })).map((r) => r.id);

  /** Sends, and returns the one rejection that sending kept (none kept, or two, fails). */
  async function keptBy<T>(send: () => Promise<T>): Promise<{ result: T; row: RejectionDetail }> {
    const before = new Set(await keptIds());
    const result = await send();
    const added = (await keptIds()).filter((id) => !before.has(id));
    expect(added, 'rejections kept by this request').to.have.length(1);
    const row = await t.daemon.store.getRejection(added[0]!);
    expect(row).to.not.equal(undefined);
    return { result, row: row! };
  }

  const cases: {
    name: string;
    send: () => ReturnType<typeof postCallback>;
    status: number;
    reason: string;
    /** What the kept row and the log line say. */
    description: RegExp;
    /** What the client is told, when it is not the description itself. */
    answer?: RegExp;
  }[] = [
    {
      name: 'an invalid field',
      status: 400,
      reason: 'invalid',
      description: /^controlNumber: must be 13 to 15 letters or digits$/,
      send: () => postCallback(t.callbackUrl, buildCallback({ controlNumber: 'SHORT' })),
    },
    {
      name: 'a missing field',
      status: 400,
      reason: 'invalid',
      description: /^dealTime: is required$/,
      send: () => postCallback(t.callbackUrl, buildCallback({ dealTime: undefined })),
    },
    {
      name: 'broken JSON',
      status: 400,
      reason: 'malformed',
      description: /not valid JSON/,
      send: () =>
        postCallback(t.callbackUrl, undefined, {
          raw: `{"authentication":"${SAMPLE_AUTH}",`,
          contentType: 'application/json',
        }),
    },
    {
      name: 'a JSON array',
      status: 400,
      reason: 'malformed',
      description: /JSON object/,
      send: () => postCallback(t.callbackUrl, [buildCallback()]),
    },
    {
      name: 'an unknown partner',
      status: 401,
      reason: 'unauthenticated',
      description: /unknown partner/,
      answer: AUTHENTICATION_FAILED,
      send: () => postCallback(t.callbackUrl, buildCallback({ userName: 'Mallory@skypay' })),
    },
    {
      name: 'a wrong key',
      status: 401,
      reason: 'unauthenticated',
      description: /wrong authentication key/,
      answer: AUTHENTICATION_FAILED,
      send: () => postCallback(t.callbackUrl, buildCallback({ authentication: 'GUESS-0000' })),
    },
    {
      name: 'text that is neither JSON nor ciphertext',
      status: 401,
      reason: 'unauthenticated',
      description: /no configured encrypt key/,
      answer: AUTHENTICATION_FAILED,
      send: () => postCallback(t.callbackUrl, undefined, { raw: 'hello', contentType: 'text/plain' }),
    },
    {
      name: 'a body over server.bodyLimit',
      status: 413,
      reason: 'too_large',
      description: /bodyLimit/,
      send: () => postCallback(t.callbackUrl, buildCallback({ failDescription: 'x'.repeat(4096) })),
    },
    {
      name: 'a form post',
      status: 415,
      reason: 'unsupported_media_type',
      description: /^unsupported content type, 33 bytes: send application\/json/,
      send: () =>
        postCallback(t.callbackUrl, undefined, { raw: 'a=1', contentType: 'application/x-www-form-urlencoded' }),
    },
    {
      name: 'XML',
      status: 415,
      reason: 'unsupported_media_type',
      description: /^unsupported content type, 8 bytes: /,
      send: () => postCallback(t.callbackUrl, undefined, { raw: '<a/>', contentType: 'text/xml' }),
    },
    {
      name: 'a GET',
      status: 405,
      reason: 'method_not_allowed',
      description: /GET is not allowed/,
      send: () => postCallback(t.callbackUrl, undefined, { method: 'GET' }),
    },
    {
      name: 'a PUT',
      status: 405,
      reason: 'method_not_allowed',
      description: /PUT is not allowed/,
      send: () => postCallback(t.callbackUrl, buildCallback(), { method: 'PUT' }),
    },
  ];

  for (const c of cases) {
    it(`answers ${c.name} with ${c.status}, never 1000, and keeps it with the key masked`, async () => {
      const { result: res, row } = await keptBy(c.send);
      expect(res.status).to.equal(c.status);
      expect(res.json?.['responseCode']).to.equal(String(c.status));
      expect(String(res.json?.['responseDescription'])).to.match(c.answer ?? c.description);
      expect(row).to.include({ status: c.status, reason: c.reason });
      expect(row.description).to.match(c.description);
      expect(row.remoteAddress).to.match(/127\.0\.0\.1/);
      expect(Date.parse(row.receivedAt)).to.be.closeTo(Date.now(), 10_000);
      expect(row.body ?? '').not.to.contain(SAMPLE_AUTH);
    });
  }

  it('keeps the refused body with the authentication value masked, and the partner it claimed', async () => {
    const { row } = await keptBy(() => postCallback(t.callbackUrl, buildCallback({ payType: '0' })));
    expect(row.partner).to.equal('AppName@skypay');
    expect(row.body).to.contain('"authentication":"***"').and.to.contain('"payType":"0"');
  });

  it('sets Allow: POST on 405', async () => {
    const res = await fetch(t.callbackUrl, { method: 'DELETE' });
    expect(res.status).to.equal(405);
    expect(res.headers.get('allow')).to.equal('POST');
  });

  it('logs every rejection with its reason and never the key', () => {
    const rejected = t.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['outcome'] === 'refused');
    expect(rejected.length).to.be.greaterThanOrEqual(cases.length);
    expect(rejected.map((l) => l['reason'])).to.include.members([
      'invalid',
      'unauthenticated',
      'too_large',
      'malformed',
    ]);
    expect(t.logs.join('')).not.to.contain(SAMPLE_AUTH).and.not.to.contain('GUESS-0000');
  });
});

describe('GET /healthz', () => {
  it('answers 200 with a small JSON while the database answers, 503 once it is closed', async () => {
    const t = await startTestDaemon();
    const res = await fetch(`${t.baseUrl}/healthz`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.include({ status: 'ok', database: 'ok' });
    sqliteHandle(t.daemon.store).close();
    const down = await fetch(`${t.baseUrl}/healthz`);
    expect(down.status).to.equal(503);
    expect(await down.json()).to.include({ database: 'unavailable' });
    await t.stop().catch(() => undefined);
  });
});
