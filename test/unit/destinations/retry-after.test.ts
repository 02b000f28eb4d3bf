import { expect } from 'chai';
import { classifyHttpStatus } from '../../../src/destinations/status';
import { decodeUtf8Prefix } from '../../../src/http-client';
import { truncateSnippet } from '../../../src/destinations/snippet';
import { parseRetryAfter } from '../../../src/destinations/retry-after';

describe('parseRetryAfter', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');

  it('reads delta-seconds as milliseconds', () => {
    expect(parseRetryAfter('3', now)).to.equal(3000);
    expect(parseRetryAfter(' 0 ', now)).to.equal(0);
    expect(parseRetryAfter('1.5', now)).to.equal(1500);
  });

  it('reads an HTTP-date relative to now', () => {
    expect(parseRetryAfter('Wed, 01 May 2024 12:00:30 GMT', now)).to.equal(30_000);
    expect(parseRetryAfter('Wednesday, 01-May-24 12:01:00 GMT', now)).to.equal(60_000);
  });

  it('treats a date in the past as "retry now"', () => {
    expect(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', now)).to.equal(0);
  });

  it('returns undefined for missing or unreadable values', () => {
    expect(parseRetryAfter(null, now)).to.equal(undefined);
    expect(parseRetryAfter(undefined, now)).to.equal(undefined);
    expect(parseRetryAfter('', now)).to.equal(undefined);
    expect(parseRetryAfter('-5', now)).to.equal(undefined);
    expect(parseRetryAfter('soon', now)).to.equal(undefined);
    expect(parseRetryAfter('Someday, 99 Foo 2024', now)).to.equal(undefined);
    expect(parseRetryAfter('9'.repeat(400), now)).to.equal(undefined);
  });
});

describe('classifyHttpStatus', () => {
  it('accepts every 2xx', () => {
    for (const status of [200, 201, 202, 204, 299]) expect(classifyHttpStatus(status), String(status)).to.equal('ok');
  });

  it('retries 408, 429 and 5xx', () => {
    for (const status of [408, 429, 500, 502, 503, 504, 599])
      expect(classifyHttpStatus(status), String(status)).to.equal('retryable');
  });

  it('gives up on redirects and other client errors', () => {
    for (const status of [100, 301, 302, 307, 400, 401, 403, 404, 410, 413, 422]) {
      expect(classifyHttpStatus(status), String(status)).to.equal('permanent');
    }
  });

  // delivery/backoff.ts had a second classifier (isRetryable) that retried these; the one in use never did.
  it('gives up on codes outside the standard range, like any other considered answer', () => {
    for (const status of [0, 99, 600, 999]) expect(classifyHttpStatus(status), String(status)).to.equal('permanent');
  });
});

describe('truncateSnippet', () => {
  it('keeps short text as is', () => {
    expect(truncateSnippet('ok', 512)).to.equal('ok');
  });

  it('cuts to the byte limit', () => {
    expect(truncateSnippet('a'.repeat(600))).to.have.length(512);
    expect(truncateSnippet('abcdef', 3)).to.equal('abc');
  });

  it('never splits a multi-byte character', () => {
    // "é" is 2 bytes and "😀" 4: a 5-byte cut must stop before the emoji.
    expect(truncateSnippet('aé😀', 5)).to.equal('aé');
    expect(truncateSnippet('aé😀', 7)).to.equal('aé😀');
    expect(truncateSnippet('é', 1)).to.equal('');
  });

  it('decodes a byte prefix the same way', () => {
    const bytes = Buffer.from('ü'.repeat(10));
    expect(decodeUtf8Prefix(bytes, 5)).to.equal('üü');
    expect(decodeUtf8Prefix(bytes, 100)).to.equal('ü'.repeat(10));
  });
});
