import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';

/**
 * SkyPay's transport encryption: AES-128-ECB, PKCS#7 padding, Base64, with the
 * key = first 16 bytes of SHA1(SHA1(encryptKey)). ECB is SkyPay's choice, not
 * ours; we only speak it.
 */
export function deriveAesKey(encryptKey: string): Buffer {
  const once = createHash('sha1').update(encryptKey, 'utf8').digest();
  return createHash('sha1').update(once).digest().subarray(0, 16);
}

export function encryptBody(plain: string, aesKey: Buffer): string {
  const cipher = createCipheriv('aes-128-ecb', aesKey, null);
  return Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Returns the plaintext, or undefined when this key does not open the body.
 * A wrong key almost always fails the padding check; the caller additionally
 * requires the plaintext to be a JSON object, which closes the ~1/256 chance
 * of a wrong key producing valid padding.
 */
export function decryptBody(cipherText: string, aesKey: Buffer): string | undefined {
  const compact = cipherText.replace(/\s+/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64.test(compact)) return undefined;
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.length === 0 || bytes.length % 16 !== 0) return undefined;
  try {
    const decipher = createDecipheriv('aes-128-ecb', aesKey, null);
    const plain = Buffer.concat([decipher.update(bytes), decipher.final()]);
    return new TextDecoder('utf-8', { fatal: true }).decode(plain);
  } catch {
    return undefined;
  }
}
