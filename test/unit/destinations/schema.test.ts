import { expect } from 'chai';
import { validate } from 'superstruct';
import { generateEd25519Key } from '../../../src/destinations/keys';
import { DestinationConfig, DestinationsConfig } from '../../../src/destinations/schema';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const OTHER = `whsec_${Buffer.alloc(32, 8).toString('base64')}`;
const KEY = generateEd25519Key();

/** The message a config validator would print for the first failure, or undefined if valid. */
function failureOf(value: unknown): string | undefined {
  const [error] = validate(value, DestinationConfig);
  return error?.message;
}

describe('destination config schema', () => {
  describe('accepts', () => {
    it('a Slack hook', () => {
      expect(failureOf({ type: 'slack', url: 'https://hooks.slack.com/services/T0/B0/xyz' })).to.equal(undefined);
    });

    it('an email destination with a URL or an options object', () => {
      expect(
        failureOf({
          type: 'email',
          transport: 'smtps://u:p@smtp.example.com',
          from: 'skyrelay@example.com',
          to: ['a@x.io'],
        }),
      ).to.equal(undefined);
      expect(
        failureOf({
          type: 'email',
          transport: { host: 'smtp.example.com', port: 587, auth: { user: 'u', pass: 'p' } },
          from: 'Skyrelay <skyrelay@example.com>',
          to: ['a@x.io', 'B <b@x.io>'],
          cc: ['c@x.io'],
          subjectPrefix: '[payouts]',
          maxInFlight: 2,
        }),
      ).to.equal(undefined);
    });

    it('a rotation: several secrets, the old ones with an expiresAt', () => {
      expect(
        failureOf({
          type: 'webhook',
          url: 'https://x.io/hook',
          secrets: [{ secret: OTHER }, { secret: SECRET, expiresAt: '2026-12-31T00:00:00Z' }],
        }),
      ).to.equal(undefined);
    });

    it('Ed25519 signing alone, or with secrets during a migration', () => {
      const ed25519 = { signing: 'ed25519', privateKey: KEY.privateKey };
      expect(failureOf({ type: 'webhook', url: 'https://x.io/hook', ...ed25519 })).to.equal(undefined);
      expect(failureOf({ type: 'webhook', url: 'https://x.io/hook', secret: SECRET, ...ed25519 })).to.equal(undefined);
      expect(
        failureOf({
          type: 'webhook',
          url: 'https://x.io/hook',
          secrets: [{ secret: SECRET, expiresAt: '2026-12-31T00:00:00Z' }],
          ...ed25519,
        }),
      ).to.equal(undefined);
    });

    it('a webhook with a secret and extra headers', () => {
      expect(
        failureOf({
          type: 'webhook',
          url: 'http://10.0.0.5:8080/hook',
          secret: SECRET,
          headers: { Authorization: 'Bearer t' },
        }),
      ).to.equal(undefined);
    });

    it('a record of named destinations', () => {
      const [error] = validate(
        { ops: { type: 'slack', url: 'https://hooks.slack.com/services/a' } },
        DestinationsConfig,
      );
      expect(error).to.equal(undefined);
    });
  });

  describe('refuses, saying what was expected', () => {
    const cases: Array<[string, unknown, string]> = [
      [
        'a non-http Slack URL',
        { type: 'slack', url: 'ftp://hooks.slack.com/x' },
        'At path: url -- Expected an http:// or https:// URL',
      ],
      [
        'a Slack URL that is not a URL',
        { type: 'slack', url: 'hooks.slack.com/x' },
        'At path: url -- Expected an http:// or https:// URL',
      ],
      [
        'an unknown type',
        { type: 'pager', url: 'https://x.io' },
        'Expected "type" to be "slack", "email" or "webhook"',
      ],
      ['a missing type', { url: 'https://x.io' }, 'Expected "type" to be "slack", "email" or "webhook"'],
      [
        'maxInFlight of 0',
        { type: 'slack', url: 'https://x.io', maxInFlight: 0 },
        'At path: maxInFlight -- Expected a positive integer',
      ],
      [
        'a fractional maxInFlight',
        { type: 'slack', url: 'https://x.io', maxInFlight: 1.5 },
        'At path: maxInFlight -- Expected a positive integer',
      ],
      [
        'an empty recipient list',
        { type: 'email', transport: 'smtp://h', from: 'a@x.io', to: [] },
        'At path: to -- Expected at least one email address',
      ],
      [
        'a bad recipient',
        { type: 'email', transport: 'smtp://h', from: 'a@x.io', to: ['a@x.io', 'nobody'] },
        'At path: to.1 -- Expected an email address',
      ],
      [
        'a bad sender',
        { type: 'email', transport: 'smtp://h', from: 'a@x.io, b@x.io', to: ['a@x.io'] },
        'At path: from -- Expected an email address',
      ],
      [
        'a non-SMTP transport URL',
        { type: 'email', transport: 'http://h', from: 'a@x.io', to: ['a@x.io'] },
        'At path: transport -- Expected an smtp:// or smtps:// URL, or a nodemailer transport options object',
      ],
      [
        'a secret without whsec_',
        { type: 'webhook', url: 'https://x.io', secret: SECRET.slice(6) },
        'At path: secret -- Expected a whsec_ secret with at least 24 bytes of Base64',
      ],
      [
        'a short secret',
        { type: 'webhook', url: 'https://x.io', secret: `whsec_${Buffer.alloc(16).toString('base64')}` },
        'At path: secret -- Expected a whsec_ secret with at least 24 bytes of Base64',
      ],
      [
        'a secret that is not Base64',
        { type: 'webhook', url: 'https://x.io', secret: `whsec_${'!'.repeat(40)}` },
        'At path: secret -- Expected a whsec_ secret',
      ],
      [
        'a header overriding the signature',
        { type: 'webhook', url: 'https://x.io', secret: SECRET, headers: { 'Webhook-Signature': 'v1,x' } },
        'At path: headers.Webhook-Signature -- Expected an HTTP header name other than webhook-id',
      ],
      [
        'a header value with a line break',
        { type: 'webhook', url: 'https://x.io', secret: SECRET, headers: { 'X-A': 'a\r\nX-B: b' } },
        'At path: headers.X-A -- Expected a header value on a single line',
      ],
      [
        'a misspelt key',
        { type: 'webhook', url: 'https://x.io', secert: SECRET },
        'Unknown key "secert"; expected only type, url, secret, secrets',
      ],
      [
        'a webhook with no way to sign',
        { type: 'webhook', url: 'https://x.io' },
        'At path: secret -- Expected a signing secret: "secret", "secrets", or "signing": "ed25519" with "privateKey"',
      ],
      [
        'both secret and secrets',
        { type: 'webhook', url: 'https://x.io', secret: SECRET, secrets: [{ secret: OTHER }] },
        'At path: secrets -- Expected either "secret" or "secrets", not both',
      ],
      [
        'an empty secrets list',
        { type: 'webhook', url: 'https://x.io', secrets: [] },
        'At path: secrets -- Expected at least one {"secret": "whsec_..."}',
      ],
      [
        'an expiresAt that does not parse',
        {
          type: 'webhook',
          url: 'https://x.io',
          secrets: [{ secret: SECRET }, { secret: OTHER, expiresAt: '31/12/2026' }],
        },
        'At path: secrets.1.expiresAt -- Expected an RFC 3339 time with its offset, such as 2026-12-31T00:00:00Z',
      ],
      [
        'an expiresAt without an offset',
        {
          type: 'webhook',
          url: 'https://x.io',
          secrets: [{ secret: SECRET }, { secret: OTHER, expiresAt: '2026-12-31T00:00:00' }],
        },
        'At path: secrets.1.expiresAt -- Expected an RFC 3339 time with its offset',
      ],
      [
        'a misspelt key in a secret',
        { type: 'webhook', url: 'https://x.io', secrets: [{ secret: SECRET, expires: '2026-12-31T00:00:00Z' }] },
        'At path: secrets.0 -- Unknown key "expires"; expected only secret, expiresAt',
      ],
      [
        'secrets that all expire',
        { type: 'webhook', url: 'https://x.io', secrets: [{ secret: SECRET, expiresAt: '2026-12-31T00:00:00Z' }] },
        'At path: secrets -- Expected one secret without "expiresAt"',
      ],
      [
        'the same secret twice',
        {
          type: 'webhook',
          url: 'https://x.io',
          secrets: [{ secret: SECRET }, { secret: SECRET, expiresAt: '2026-12-31T00:00:00Z' }],
        },
        "At path: secrets.1.secret -- Expected a secret other than secrets.0's",
      ],
      [
        'another signing scheme',
        { type: 'webhook', url: 'https://x.io', secret: SECRET, signing: 'rsa' },
        'At path: signing -- Expected "ed25519"',
      ],
      [
        'ed25519 without a private key',
        { type: 'webhook', url: 'https://x.io', signing: 'ed25519' },
        'At path: privateKey -- Expected a whsk_ private key with "signing": "ed25519"',
      ],
      [
        'a private key without signing',
        { type: 'webhook', url: 'https://x.io', secret: SECRET, privateKey: KEY.privateKey },
        'At path: signing -- Expected "ed25519" with "privateKey"',
      ],
      [
        'a private key that is not whsk_',
        { type: 'webhook', url: 'https://x.io', signing: 'ed25519', privateKey: SECRET },
        'At path: privateKey -- Expected whsk_ followed by the Base64 of a 64-byte Ed25519 key pair',
      ],
    ];
    for (const [what, value, expected] of cases) {
      it(what, () => {
        expect(failureOf(value)).to.be.a('string').and.include(expected);
      });
    }

    it('an unknown key, naming the key but not its value', () => {
      const message = failureOf({ type: 'webhook', url: 'https://x.io', secret: SECRET, sekret: SECRET });
      expect(message).to.equal(
        'Unknown key "sekret"; expected only type, url, secret, secrets, signing, privateKey, headers, maxInFlight, breaker, omit, mask, ordered, orderedOnDead',
      );
    });

    it('without echoing secrets or URLs back', () => {
      const messages = [
        failureOf({ type: 'webhook', url: 'https://x.io/hook', secret: 'whsec_c2hvcnQ=' }),
        failureOf({ type: 'webhook', url: 'https://x.io/hook', secrets: [{ secret: 'whsec_c2hvcnQ=' }] }),
        failureOf({ type: 'webhook', url: 'https://x.io/hook', signing: 'ed25519', privateKey: 'whsk_c2hvcnQ=' }),
        failureOf({ type: 'slack', url: 'gopher://hooks.slack.com/services/T0/B0/secretpath' }),
        failureOf({ type: 'email', transport: 'smtpx://user:hunter22@h', from: 'a@x.io', to: ['a@x.io'] }),
      ];
      for (const message of messages) {
        expect(message).to.be.a('string');
        expect(message).not.to.include('c2hvcnQ');
        expect(message).not.to.include('secretpath');
        expect(message).not.to.include('hunter22');
      }
    });

    it('an empty destination name', () => {
      const [error] = validate({ '': { type: 'slack', url: 'https://x.io' } }, DestinationsConfig);
      expect(error?.message).to.include('Expected a non-empty destination name');
    });
  });
});
