import { deriveAesKey, decryptBody, encryptBody } from '../../src/skypay/crypto';

/** The sample partner and key from SkyPay's documentation (config/default.json). */
export const SAMPLE_PARTNER = 'AppName@skypay';
export const SAMPLE_AUTH = '30AC21B2-9EAA-4503-B0F0-7BE5C277ED75';
export const SAMPLE_ENCRYPT_KEY = 'SkyPayDemoKey2026';

let counter = 0;

/** A unique, valid control number: 5-character prefix + 10 digits. */
export function nextControlNumber(prefix = 'SKY99'): string {
  counter += 1;
  return `${prefix}${String((Date.now() % 1e6) * 1e4 + counter)
    .padStart(10, '0')
    .slice(-10)}`;
}

/**
 * A dealTime `offsetMs` from now, as SkyPay writes it: GMT+8 wall clock, whole seconds. Production refuses
 * the documentation's 2018 sample as older than skypay.maxAgeDays.
 */
export function dealTimeFromNow(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** Builds a callback body as SkyPay sends it (payType as a string, like every example). */
export function buildCallback(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    userName: SAMPLE_PARTNER,
    action: 'payoutQueuePayout',
    authentication: SAMPLE_AUTH,
    controlNumber: nextControlNumber(),
    payType: '1',
    dealTime: '2018-08-07 11:58:33',
    ...overrides,
  };
}

export function encryptCallback(body: unknown, encryptKey: string): string {
  return encryptBody(JSON.stringify(body), deriveAesKey(encryptKey));
}

export function decryptReply(text: string, encryptKey: string): unknown {
  const plain = decryptBody(text, deriveAesKey(encryptKey));
  if (plain === undefined) throw new Error(`reply does not decrypt with the key: ${text.slice(0, 80)}`);
  return JSON.parse(plain);
}

export interface PostResult {
  status: number;
  contentType: string;
  text: string;
  json: Record<string, unknown> | undefined;
}

/** Posts a callback: plain JSON, or encrypted text/plain when encryptKey is given. */
export async function postCallback(
  url: string,
  body: unknown,
  options: { encryptKey?: string; contentType?: string; raw?: string; method?: string } = {},
): Promise<PostResult> {
  const payload =
    options.raw ?? (options.encryptKey ? encryptCallback(body, options.encryptKey) : JSON.stringify(body));
  const contentType = options.contentType ?? (options.encryptKey ? 'text/plain' : 'application/json');
  const res = await fetch(url, {
    method: options.method ?? 'POST',
    headers: { 'content-type': contentType },
    ...(options.method === 'GET' || options.method === 'HEAD' ? {} : { body: payload }),
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json };
}
