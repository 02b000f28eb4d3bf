import { expect } from 'chai';
import { findErrorCode } from '../../src/destinations/request-failure';
import { scrubSnippet } from '../../src/destinations/snippet';
import { listEncodedForms, scrubSecrets, secretLookaheadBytes } from '../../src/scrub';

const SECRET = 'SecretPathToken0123456789';

describe('scrubSecrets: a secret in any case and encoding', () => {
  it('masks the secret whatever its case', () => {
    const secrets = [SECRET];
    expect(
      scrubSecrets(`a ${SECRET.toLowerCase()} b ${SECRET.toUpperCase()} c sEcReTpAtHtOkEn0123456789`, secrets),
    ).to.equal('a [redacted] b [redacted] c [redacted]');
  });

  it('masks base64 of it at each of the 3 alignments, in both alphabets, inside any longer encoding', () => {
    const secrets = [`${SECRET}?>>`];
    for (const before of ['', 'x', 'xy', '{"hook":"', 'ab\u00e9']) {
      const bytes = Buffer.from(`${before}${SECRET}?>> and more`);
      for (const encoding of ['base64', 'base64url'] as const) {
        const encoded = bytes.toString(encoding);
        const masked = scrubSecrets(`answer: ${encoded}`, secrets);
        expect(masked, `${encoding} after ${JSON.stringify(before)}`).to.include('[redacted]');
        // Only the characters that also carry bytes of what surrounds the secret are left around the marker.
        const [head = '', tail = ''] = masked.slice('answer: '.length).split('[redacted]');
        expect(head.length).to.be.at.most(Math.ceil((Buffer.byteLength(before) * 8) / 6));
        expect(tail.length).to.be.at.most(Math.ceil((Buffer.byteLength(' and more') * 8) / 6) + 3);
      }
    }
  });

  it('masks hex of it, in either case', () => {
    const hex = Buffer.from(SECRET).toString('hex');
    expect(scrubSecrets(`key=${hex}; KEY=${hex.toUpperCase()}`, [SECRET])).to.equal('key=[redacted]; KEY=[redacted]');
  });

  it('lists no encoded form too short to mask safely', () => {
    expect(listEncodedForms('abcd')).to.deep.equal(['61626364']);
    for (const form of listEncodedForms(SECRET)) expect(form.length).to.be.at.least(8);
    expect(secretLookaheadBytes([SECRET])).to.equal(2 * SECRET.length);
  });
});

describe('scrubSnippet: scrubbed, then cut', () => {
  const secrets = [SECRET];

  it('masks a secret crossing the cut whole and keeps its marker at the edge', () => {
    expect(scrubSnippet(`${'x'.repeat(500)}${SECRET}`, secrets, 512)).to.equal(`${'x'.repeat(500)}[redacted]`);
    expect(scrubSnippet(`${'x'.repeat(505)}${SECRET}tail`, secrets, 512)).to.equal(`${'x'.repeat(502)}[redacted]`);
    expect(scrubSnippet(`${'x'.repeat(511)}${SECRET.toLowerCase()}`, secrets, 512)).to.equal(
      `${'x'.repeat(502)}[redacted]`,
    );
  });

  it('leaves a secret that starts at the cut out, with no marker, and never splits a character', () => {
    expect(scrubSnippet(`${'x'.repeat(512)}${SECRET}`, secrets, 512)).to.equal('x'.repeat(512));
    expect(scrubSnippet(`${'é'.repeat(300)}`, secrets, 512)).to.equal('é'.repeat(256));
    expect(scrubSnippet(`${'é'.repeat(252)}${SECRET}`, secrets, 512)).to.equal(`${'é'.repeat(251)}[redacted]`);
    expect(scrubSnippet(`short ${SECRET} answer`, secrets, 512)).to.equal('short [redacted] answer');
  });
});

describe('findErrorCode', () => {
  it('quotes only code-shaped words, never other text a library put there', () => {
    const wrapped = new Error('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'https://hooks.example.com/services/SECRET' }),
    });
    expect(findErrorCode(Object.assign(wrapped, { code: 'UND_ERR_SOCKET' }))).to.equal('UND_ERR_SOCKET');
    expect(findErrorCode(new Error('x', { cause: Object.assign(new Error('y'), { code: 'ECONNRESET' }) }))).to.equal(
      'ECONNRESET',
    );
  });
});
