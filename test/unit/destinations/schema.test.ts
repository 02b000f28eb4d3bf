import { expect } from 'chai';
import { validate } from 'superstruct';
import { DestinationConfig, DestinationsConfig } from '../../../src/destinations/schema';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

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
        'At path: secret -- Expected a whsec_ secret',
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
        'Unknown key "sekret"; expected only type, url, secret, headers, maxInFlight, omit, mask',
      );
    });

    it('without echoing secrets or URLs back', () => {
      const messages = [
        failureOf({ type: 'webhook', url: 'https://x.io/hook', secret: 'whsec_c2hvcnQ=' }),
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
