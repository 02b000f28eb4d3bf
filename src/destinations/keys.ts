import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';

/**
 * Signing keys in Standard Webhooks' serialization: `whsec_` + Base64 of an
 * HMAC secret, `whsk_` + Base64 of an Ed25519 key pair (the 32-byte seed,
 * then its 32-byte public key, as Svix serializes it), `whpk_` + Base64 of
 * the 32-byte public key. Messages never quote a key: they end up in logs.
 */

export const HMAC_SECRET_PREFIX = 'whsec_';
export const ED25519_PRIVATE_PREFIX = 'whsk_';
export const ED25519_PUBLIC_PREFIX = 'whpk_';

const SEED_BYTES = 32;
const PUBLIC_KEY_BYTES = 32;
/** What skyrelay generates; Standard Webhooks asks for at least 24. */
const GENERATED_SECRET_BYTES = 32;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// DER of a PKCS#8 Ed25519 private key (RFC 8410) up to its seed, which follows: how node:crypto takes a raw seed.
const PKCS8_ED25519_HEADER = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A key that is not in the expected form; the message says what was expected, never the key. */
export class KeyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFormatError';
  }
}

/** The HMAC key bytes of a `whsec_` secret (the prefix is optional, as in the standardwebhooks library). */
export function readHmacKey(secret: string): Buffer {
  return Buffer.from(
    secret.startsWith(HMAC_SECRET_PREFIX) ? secret.slice(HMAC_SECRET_PREFIX.length) : secret,
    'base64',
  );
}

export interface Ed25519Key {
  /** For node:crypto's sign(null, data, privateKey). */
  privateKey: KeyObject;
  /** `whpk_...`: what a receiver configures to verify `v1a` signatures. */
  publicKey: string;
}

export const ED25519_PRIVATE_KEY_FORMAT =
  `${ED25519_PRIVATE_PREFIX} followed by the Base64 of a 64-byte Ed25519 key pair ` +
  '(the 32-byte seed, then its public key), as `skyrelay keys generate ed25519` prints it';

/** Reads a `whsk_` key pair, checking that its public half belongs to its seed (a pasted mix of two keys would not verify). */
export function readEd25519PrivateKey(text: string): Ed25519Key {
  if (!text.startsWith(ED25519_PRIVATE_PREFIX)) throw new KeyFormatError(`Expected ${ED25519_PRIVATE_KEY_FORMAT}`);
  const base64 = text.slice(ED25519_PRIVATE_PREFIX.length);
  const bytes = Buffer.from(base64, 'base64');
  if (!BASE64.test(base64) || bytes.length !== SEED_BYTES + PUBLIC_KEY_BYTES) {
    throw new KeyFormatError(`Expected ${ED25519_PRIVATE_KEY_FORMAT}`);
  }
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_HEADER, bytes.subarray(0, SEED_BYTES)]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = rawPublicKey(privateKey);
  if (!publicKey.equals(bytes.subarray(SEED_BYTES))) {
    throw new KeyFormatError(
      `Expected ${ED25519_PRIVATE_KEY_FORMAT}: its last 32 bytes are not the public key of its first 32 (two keys mixed?)`,
    );
  }
  return { privateKey, publicKey: `${ED25519_PUBLIC_PREFIX}${publicKey.toString('base64')}` };
}

/** The forms in which a `whsk_` key could be quoted back: whole, its Base64, and the Base64 of the seed alone. */
export function quotableFormsOfPrivateKey(text: string): string[] {
  const base64 = text.startsWith(ED25519_PRIVATE_PREFIX) ? text.slice(ED25519_PRIVATE_PREFIX.length) : text;
  const seed = Buffer.from(base64, 'base64').subarray(0, SEED_BYTES);
  return [text, base64, ...(seed.length === SEED_BYTES ? [seed.toString('base64')] : [])];
}

function rawPublicKey(privateKey: KeyObject): Buffer {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return spki.subarray(spki.length - PUBLIC_KEY_BYTES);
}

/** A new Ed25519 key pair, serialized for config (`whsk_`) and for receivers (`whpk_`). */
export function generateEd25519Key(): { privateKey: string; publicKey: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const seed = pkcs8.subarray(pkcs8.length - SEED_BYTES);
  const publicKey = rawPublicKey(privateKey);
  return {
    privateKey: `${ED25519_PRIVATE_PREFIX}${Buffer.concat([seed, publicKey]).toString('base64')}`,
    publicKey: `${ED25519_PUBLIC_PREFIX}${publicKey.toString('base64')}`,
  };
}

/** A new random `whsec_` secret. */
export function generateHmacSecret(): string {
  return `${HMAC_SECRET_PREFIX}${randomBytes(GENERATED_SECRET_BYTES).toString('base64')}`;
}
