import { RESPONSE_SNIPPET_BYTES } from './types';

/**
 * Small pure helpers the HTTP-based destinations share: reading Retry-After,
 * deciding whether a status is worth retrying, and cutting answers down to
 * what is worth recording.
 */

export type StatusClass = 'ok' | 'retryable' | 'permanent';

const DELTA_SECONDS = /^\s*(\d+(?:\.\d+)?)\s*$/;
// IMF-fixdate and RFC 850 dates start with a day name, asctime with "Sun Nov"
const HTTP_DATE = /^\s*[A-Za-z]{3,9},?\s/;

/**
 * Reads a Retry-After value (delta-seconds or HTTP-date) as milliseconds to
 * wait from `now`. Returns undefined when the header is missing or unreadable,
 * so callers fall back to their own backoff rather than trusting garbage.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const delta = DELTA_SECONDS.exec(value);
  if (delta?.[1] !== undefined) {
    const ms = Math.round(Number(delta[1]) * 1000);
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  if (!HTTP_DATE.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  // A date in the past means "now": the receiver is ready again.
  return Math.max(0, at - now);
}

/**
 * 408, 429 and 5xx say "not now"; everything else outside 2xx says "never"
 * (including 3xx, because redirects are not followed: a moved endpoint needs
 * a config change, not another attempt).
 */
export function classifyHttpStatus(status: number): StatusClass {
  if (status >= 200 && status <= 299) return 'ok';
  if (status === 408 || status === 429 || (status >= 500 && status <= 599)) return 'retryable';
  return 'permanent';
}

/**
 * Decodes at most `maxBytes` of UTF-8, cutting before a character that would
 * otherwise be split so the snippet never ends in a replacement character.
 */
export function decodeUtf8Prefix(bytes: Uint8Array, maxBytes: number = RESPONSE_SNIPPET_BYTES): string {
  let end = Math.min(bytes.length, Math.max(0, maxBytes));
  if (end < bytes.length) {
    // Step back over continuation bytes (10xxxxxx) to the start of the split character.
    while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8');
}

/** Cuts text to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateSnippet(text: string, maxBytes: number = RESPONSE_SNIPPET_BYTES): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= maxBytes ? text : decodeUtf8Prefix(bytes, maxBytes);
}
