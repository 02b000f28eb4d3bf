/** Reading a receiver's Retry-After header: how long it asks us to wait. */

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
