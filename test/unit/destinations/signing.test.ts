import { createPublicKey, verify } from 'node:crypto';
import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import {
  ED25519_PUBLIC_PREFIX,
  KeyFormatError,
  generateEd25519Key,
  generateHmacSecret,
  readEd25519PrivateKey,
} from '../../../src/destinations/keys';
import {
  createWebhookSigner,
  findSigningProblems,
  listExpiredSecrets,
  parseExpiresAt,
  selectUnexpired,
} from '../../../src/destinations/signing';

const NEW = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
const OLD = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;
const EXPIRES_AT = '2026-12-31T00:00:00Z';
const EXPIRES_MS = Date.UTC(2026, 11, 31);
const BODY = '{"type":"skypay.payout.paid","timestamp":"2026-11-25T12:00:00.000Z","data":{}}';

/** standardwebhooks checks the timestamp against the real clock: verify against the signer's own instant. */
function verifiesWith(secret: string, headers: Record<string, string>, atMs: number): boolean {
  const realNow = Date.now;
  Date.now = () => atMs;
  try {
    new Webhook(secret).verify(BODY, headers);
    return true;
  } catch {
    return false;
  } finally {
    Date.now = realNow;
  }
}

/** A `whpk_` key as node:crypto takes it: the fixed SPKI header of Ed25519 (RFC 8410), then the 32 bytes. */
function publicKeyObject(whpk: string) {
  const raw = Buffer.from(whpk.slice(ED25519_PUBLIC_PREFIX.length), 'base64');
  return createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]),
    format: 'der',
    type: 'spki',
  });
}

describe('webhook signing', () => {
  describe('parseExpiresAt', () => {
    it('reads RFC 3339 times with an offset', () => {
      expect(parseExpiresAt(EXPIRES_AT)).to.equal(EXPIRES_MS);
      expect(parseExpiresAt('2026-12-31T08:00:00+08:00')).to.equal(EXPIRES_MS);
      expect(parseExpiresAt('2026-12-31T00:00:00.250Z')).to.equal(EXPIRES_MS + 250);
      expect(parseExpiresAt('2028-02-29T00:00Z')).to.equal(Date.UTC(2028, 1, 29));
    });

    it('refuses what Date.parse would bend: no offset, no time, impossible days and hours', () => {
      for (const text of [
        '2026-12-31T00:00:00',
        '2026-12-31',
        '2026-02-30T00:00:00Z',
        '2027-02-29T00:00:00Z',
        '2026-12-31T24:00:00Z',
        '2026-13-01T00:00:00Z',
        '2026-12-31T00:00:00+25:00',
        'December 31, 2026',
        '',
      ]) {
        expect(parseExpiresAt(text), text).to.equal(undefined);
      }
    });
  });

  it('keeps a secret up to, and not at, its expiresAt', () => {
    const keys = [
      { name: 'new', expiresAtMs: undefined },
      { name: 'old', expiresAtMs: EXPIRES_MS },
    ];
    expect(selectUnexpired(keys, EXPIRES_MS - 1).map((k) => k.name)).to.deep.equal(['new', 'old']);
    expect(selectUnexpired(keys, EXPIRES_MS).map((k) => k.name)).to.deep.equal(['new']);
  });

  describe('createWebhookSigner', () => {
    const rotating = { secrets: [{ secret: NEW }, { secret: OLD, expiresAt: EXPIRES_AT }] };

    it('signs with every unexpired secret, space-separated, each verifying on its own', () => {
      const at = EXPIRES_MS - 60_000;
      const headers = { 'webhook-id': 'dlv_1', ...createWebhookSigner(rotating).sign('dlv_1', BODY, at) };
      expect(headers['webhook-timestamp']).to.equal(String(Math.floor(at / 1000)));
      expect(headers['webhook-signature']).to.match(/^v1,[A-Za-z0-9+/]+=* v1,[A-Za-z0-9+/]+=*$/);
      expect(verifiesWith(NEW, headers, at)).to.equal(true);
      expect(verifiesWith(OLD, headers, at)).to.equal(true);
      // The first signature is the first secret's: the order of the list.
      const [first] = headers['webhook-signature'].split(' ');
      expect(first).to.equal(new Webhook(NEW).sign('dlv_1', new Date(at), BODY));
    });

    it('drops an expired secret at the attempt that comes after its expiresAt, with no new signer', () => {
      const signer = createWebhookSigner(rotating);
      const headers = { 'webhook-id': 'dlv_1', ...signer.sign('dlv_1', BODY, EXPIRES_MS) };
      expect(headers['webhook-signature'].split(' ')).to.have.length(1);
      expect(verifiesWith(NEW, headers, EXPIRES_MS)).to.equal(true);
      expect(verifiesWith(OLD, headers, EXPIRES_MS)).to.equal(false);
    });

    it('appends a v1a Ed25519 signature over the same content', () => {
      const pair = generateEd25519Key();
      const at = EXPIRES_MS - 1000;
      const signed = createWebhookSigner({ secret: NEW, signing: 'ed25519', privateKey: pair.privateKey }).sign(
        'dlv_2',
        BODY,
        at,
      );
      const [v1, v1a] = signed['webhook-signature'].split(' ');
      expect(v1).to.match(/^v1,/);
      expect(v1a).to.match(/^v1a,/);
      const content = Buffer.from(`dlv_2.${signed['webhook-timestamp']}.${BODY}`);
      const signature = Buffer.from(v1a?.slice('v1a,'.length) ?? '', 'base64');
      expect(signature).to.have.length(64);
      expect(verify(null, content, publicKeyObject(pair.publicKey), signature)).to.equal(true);
      expect(
        verify(
          null,
          Buffer.from(`dlv_2.${signed['webhook-timestamp']}.{}`),
          publicKeyObject(pair.publicKey),
          signature,
        ),
      ).to.equal(false);
    });

    it('signs v1a alone when only Ed25519 is configured', () => {
      const pair = generateEd25519Key();
      const signed = createWebhookSigner({ signing: 'ed25519', privateKey: pair.privateKey }).sign('d', BODY, 0);
      expect(signed['webhook-signature']).to.match(/^v1a,[A-Za-z0-9+/]{86}==$/);
    });
  });

  describe('keys', () => {
    it('reads a generated key pair back, with the public key it was generated with', () => {
      const pair = generateEd25519Key();
      expect(pair.privateKey).to.match(/^whsk_[A-Za-z0-9+/]{86}==$/);
      expect(pair.publicKey).to.match(/^whpk_[A-Za-z0-9+/]{43}=$/);
      expect(readEd25519PrivateKey(pair.privateKey).publicKey).to.equal(pair.publicKey);
    });

    it('refuses other prefixes, bad Base64, other lengths and halves of two different keys, never quoting the key', () => {
      const a = generateEd25519Key().privateKey;
      const b = generateEd25519Key().privateKey;
      const bytes = (key: string) => Buffer.from(key.slice(5), 'base64');
      const mixed = `whsk_${Buffer.concat([bytes(a).subarray(0, 32), bytes(b).subarray(32)]).toString('base64')}`;
      const bad = [
        a.replace('whsk_', 'whsec_'),
        `whsk_${'!'.repeat(88)}`,
        `whsk_${bytes(a).subarray(0, 32).toString('base64')}`,
        mixed,
      ];
      for (const key of bad) {
        let error: unknown;
        try {
          readEd25519PrivateKey(key);
        } catch (err) {
          error = err;
        }
        expect(error, key).to.be.instanceOf(KeyFormatError);
        expect((error as Error).message).not.to.contain(key.slice(5, 30));
      }
    });

    it('generates whsec_ secrets of 32 random bytes', () => {
      const secret = generateHmacSecret();
      expect(Buffer.from(secret.slice(6), 'base64')).to.have.length(32);
      expect(generateHmacSecret()).not.to.equal(secret);
    });
  });

  describe('findSigningProblems', () => {
    const pathsOf = (config: Parameters<typeof findSigningProblems>[0]) =>
      findSigningProblems(config).map((p) => p.path.join('.'));
    const key = generateEd25519Key().privateKey;

    it('accepts one secret, a rotation, Ed25519 alone, and Ed25519 with secrets that all expire', () => {
      expect(pathsOf({ secret: NEW })).to.deep.equal([]);
      expect(pathsOf({ secrets: [{ secret: NEW }, { secret: OLD, expiresAt: EXPIRES_AT }] })).to.deep.equal([]);
      expect(pathsOf({ signing: 'ed25519', privateKey: key })).to.deep.equal([]);
      expect(
        pathsOf({ secrets: [{ secret: OLD, expiresAt: EXPIRES_AT }], signing: 'ed25519', privateKey: key }),
      ).to.deep.equal([]);
    });

    it('names the key of each problem', () => {
      expect(pathsOf({ secret: NEW, secrets: [{ secret: OLD }] })).to.deep.equal(['secrets']);
      expect(pathsOf({})).to.deep.equal(['secret']);
      expect(pathsOf({ signing: 'ed25519' })).to.deep.equal(['privateKey']);
      expect(pathsOf({ secret: NEW, privateKey: key })).to.deep.equal(['signing']);
      expect(pathsOf({ secrets: [{ secret: OLD, expiresAt: EXPIRES_AT }] })).to.deep.equal(['secrets']);
      expect(pathsOf({ secrets: [{ secret: NEW }, { secret: OLD }, { secret: NEW }] })).to.deep.equal([
        'secrets.2.secret',
      ]);
    });

    it('does not depend on the clock: an expired secret is listed for a warning instead', () => {
      const config = { secrets: [{ secret: NEW }, { secret: OLD, expiresAt: '2020-01-01T00:00:00Z' }] };
      expect(findSigningProblems(config)).to.deep.equal([]);
      expect(listExpiredSecrets(config, Date.UTC(2020, 0, 1) - 1)).to.deep.equal([]);
      expect(listExpiredSecrets(config, Date.UTC(2020, 0, 1))).to.deep.equal([
        { index: 1, expiresAt: '2020-01-01T00:00:00Z' },
      ]);
    });
  });
});
