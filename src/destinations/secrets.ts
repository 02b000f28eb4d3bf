import { isRecord } from './http';

/**
 * Keeps destination secrets (Slack hook URLs, webhook signing secrets, SMTP
 * passwords) out of anything we record or log: error messages, responses
 * and the causes attached to DeliveryErrors.
 */

const REDACTED = '[redacted]';

/** Drops empty and very short values: replacing "a" everywhere would shred messages. */
export function collectSecrets(values: Array<string | undefined | null>): string[] {
  const out = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string' || value.length < 4) continue;
    out.add(value);
    // Secrets also show up percent-encoded (in URLs) or decoded (from URLs).
    out.add(encodeURIComponent(value));
    try {
      out.add(decodeURIComponent(value));
    } catch {
      // Not valid percent-encoding: the raw form is enough.
    }
  }
  // Longest first, so a URL is replaced whole before its path is.
  return [...out].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
}

/** The secret parts of a URL: the whole URL, its path and query, and any password. */
export function secretsOfUrl(url: string): string[] {
  try {
    const parsed = new URL(url);
    const pathAndQuery = parsed.pathname + parsed.search;
    return collectSecrets([url, parsed.href, pathAndQuery.length > 1 ? pathAndQuery : undefined, parsed.password]);
  } catch {
    return collectSecrets([url]);
  }
}

export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * A stand-in for a library error that keeps what helps debugging (name, code,
 * scrubbed message, a short cause chain) and drops the rest: axios/undici and
 * nodemailer errors can carry request configs, URLs and credentials.
 */
export function toSafeCause(error: unknown, secrets: readonly string[], depth = 0): Error {
  if (!isRecord(error)) return new Error(scrubSecrets(String(error), secrets));
  const message = typeof error['message'] === 'string' ? error['message'] : String(error);
  const nested = error['cause'];
  const safe = new Error(
    scrubSecrets(message, secrets),
    nested !== undefined && depth < 3 ? { cause: toSafeCause(nested, secrets, depth + 1) } : undefined,
  );
  if (typeof error['name'] === 'string') safe.name = error['name'];
  for (const key of ['code', 'responseCode', 'command'] as const) {
    const value = error[key];
    if (typeof value === 'string' || typeof value === 'number') {
      Object.defineProperty(safe, key, { value: typeof value === 'string' ? scrubSecrets(value, secrets) : value, enumerable: true });
    }
  }
  return safe;
}
