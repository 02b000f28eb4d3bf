import { expect } from 'chai';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { deriveAesKey, encryptBody } from '../../../src/skypay/crypto';
import { SAMPLE_AUTH, SAMPLE_ENCRYPT_KEY, buildCallback, decryptReply, postCallback } from '../../support/skypay';

/**
 * Regressions for what fuzzing found: inputs that used to come back as 500
 * or as a storage failure (503, and /readyz going red) although the sender
 * was at fault.
 */
describe('bad input found by fuzzing', () => {
  let t: TestDaemon;
  before(async () => {
    t = await startTestDaemon();
  });
  after(async () => {
    await t.stop();
  });

  const internalErrors = (logs: readonly string[]): string[] => logs.filter((l) => l.includes('"reason":"internal"'));
  /**
   * A case whose requests must each be logged as the sender's fault, never as an internal error (what fuzzing
   * first saw); it checks only the lines its own requests wrote, so it passes or fails the same run alone.
   */
  const itNoInternalError = (title: string, fn: () => Promise<void>): void => {
    it(title, async () => {
      const from = t.logs.length;
      await fn();
      expect(t.logs.length, 'lines logged for its requests').to.be.above(from);
      expect(internalErrors(t.logs.slice(from))).to.deep.equal([]);
    });
  };

  const post = (body: Uint8Array | string, headers: Record<string, string>) =>
    fetch(t.callbackUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const withExtra = (raw: string): string => `${JSON.stringify(buildCallback()).slice(0, -1)},"note":${raw}}`;

  for (const [name, nesting] of [
    ['arrays', (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`],
    ['objects', (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`],
  ] as const) {
    itNoInternalError(
      `refuses an extra field nested 20,000 ${name} deep with 400, not a storage failure (was 503)`,
      async () => {
        const res = await postCallback(t.callbackUrl, undefined, {
          raw: withExtra(nesting(20_000)),
          contentType: 'application/json',
        });
        expect(res.status).to.equal(400);
        expect(res.json).to.include({ responseCode: '400', responseDescription: 'body nests deeper than 32 levels' });
        expect((await fetch(`${t.baseUrl}/readyz`)).status).to.equal(200);
      },
    );
  }

  itNoInternalError('still accepts extra fields nested within the limit, and keeps them', async () => {
    const res = await postCallback(t.callbackUrl, undefined, {
      raw: withExtra(`${'['.repeat(30)}1${']'.repeat(30)}`),
      contentType: 'application/json',
    });
    expect(res.json?.['responseCode']).to.equal('1000');
  });

  const corrupt: [string, Uint8Array][] = [
    ['gzip', Buffer.from('not gzip at all')],
    ['deflate', Buffer.from('nope')],
    ['br', Buffer.from([0xff, 0x00, 0x13, 0x37])],
    ['gzip', gzipSync(JSON.stringify(buildCallback())).subarray(0, 20)],
  ];
  for (const [encoding, body] of corrupt) {
    itNoInternalError(`answers a corrupt ${encoding} body (${body.length} bytes) with 400, not 500`, async () => {
      const res = await post(body, { 'content-encoding': encoding });
      expect(res.status).to.equal(400);
      expect(await res.json()).to.include({
        responseCode: '400',
        responseDescription: 'body could not be decompressed (check Content-Encoding)',
      });
    });
  }

  itNoInternalError('accepts a correctly compressed callback in each encoding', async () => {
    for (const [encoding, compress] of [
      ['gzip', gzipSync],
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
    ] as const) {
      const res = await post(compress(JSON.stringify(buildCallback())), { 'content-encoding': encoding });
      expect(await res.json(), encoding).to.include({ responseCode: '1000' });
    }
  });

  itNoInternalError(
    'refuses a "__proto__" key with 400 on every transport (encrypted bodies used to get 1000)',
    async () => {
      const raw = `${JSON.stringify(buildCallback()).slice(0, -1)},"__proto__":{"isAdmin":true}}`;
      for (const contentType of ['application/json', 'text/plain']) {
        const res = await postCallback(t.callbackUrl, undefined, { raw, contentType });
        expect(res.json, contentType).to.include({
          responseCode: '400',
          responseDescription: 'body has a "__proto__" key',
        });
      }
      const crypto = await startTestDaemon({
        skypay: {
          partners: [{ userName: 'AppName@skypay', authentication: [SAMPLE_AUTH], encryptKeys: [SAMPLE_ENCRYPT_KEY] }],
        },
      });
      try {
        const sealed = encryptBody(raw, deriveAesKey(SAMPLE_ENCRYPT_KEY));
        const res = await postCallback(crypto.callbackUrl, undefined, { raw: sealed, contentType: 'text/plain' });
        expect(res.status).to.equal(400);
        expect(decryptReply(res.text, SAMPLE_ENCRYPT_KEY)).to.include({
          responseDescription: 'body has a "__proto__" key',
        });
        expect(internalErrors(crypto.logs), 'the encrypting daemon').to.deep.equal([]);
      } finally {
        await crypto.stop();
      }
    },
  );

  itNoInternalError('reads a dealTime in the years 0-99 by the calendar rather than as 1900-1999', async () => {
    const leapDayOfYearZero = await postCallback(t.callbackUrl, buildCallback({ dealTime: '0000-02-29 10:00:00' }));
    expect(leapDayOfYearZero.json?.['responseCode']).to.equal('1000');
    const notALeapYear = await postCallback(t.callbackUrl, buildCallback({ dealTime: '0001-02-29 10:00:00' }));
    expect(notALeapYear.status).to.equal(400);
  });
});
