import { isRecord } from '../is-record';
import { decryptBody } from '../skypay/crypto';
import type { CallbackMediaType } from './content-type';
import { MalformedBodyError, UnauthenticatedError, UnsupportedMediaTypeError } from './rejections';
import type { Partner } from '../skypay/partners';

export interface OpenedBody {
  body: Record<string, unknown>;
  /** The AES key that opened the body; undefined for plain JSON. */
  key?: Buffer;
  /** The JSON text the body was parsed from: extra fields are kept as this text has them. */
  text?: string | undefined;
}

/**
 * A JSON body is already open; a text body is plain JSON sent as text, or
 * SkyPay's transport encryption, which one of the partners' keys must open.
 */
export function openBody(
  parsed: unknown,
  rawText: string | undefined,
  mediaType: CallbackMediaType,
  partners: Map<string, Partner>,
): OpenedBody {
  if (mediaType === 'json') return { body: requireObject(parsed), text: rawText };
  if (typeof parsed !== 'string') {
    throw new UnsupportedMediaTypeError('send application/json, or text/plain with an encrypted body');
  }
  // SkyPay's sandbox and test tools sometimes post plain JSON as text/plain.
  const plain = parseObject(parsed);
  return plain ? { body: plain, text: parsed } : decryptCallback(parsed, partners.values());
}

/**
 * Opens an encrypted (text/plain, Base64) body with each configured key in
 * turn. The plaintext must be a JSON object for a key to count as the one:
 * a wrong key can, rarely, still yield valid padding.
 */
export function decryptCallback(cipherText: string, partners: Iterable<Partner>): OpenedBody {
  for (const partner of partners) {
    for (const key of partner.aesKeys) {
      const plain = decryptBody(cipherText, key);
      if (plain === undefined) continue;
      const body = parseObject(plain);
      if (body) return { body, key, text: plain };
    }
  }
  throw new UnauthenticatedError('no configured encrypt key decrypts this body');
}

export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A plain JSON body must be an object; bodyparser already rejected broken JSON. */
export function requireObject(value: unknown): Record<string, unknown> {
  if (!isRecord(value)) throw new MalformedBodyError('body must be a JSON object');
  return value;
}
