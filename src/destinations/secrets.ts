import type { Config } from '../config/schema';
import { MIN_SECRET_CHARS, scrubSecrets } from '../scrub';
import { isRecord } from '../is-record';
import { listPartnerSecrets } from '../skypay/partners';
import { quotableFormsOfPrivateKey } from './keys';
import type { DestinationConfig } from './schema';
import { listHmacSecrets } from './signing';

/**
 * Keeps destination secrets (Slack hook URLs, webhook signing secrets, SMTP
 * passwords) out of anything we record or log: error messages, responses
 * and the causes attached to DeliveryErrors.
 */

/** Drops empty and very short values: replacing "a" everywhere would shred messages. */
export function collectSecrets(values: Array<string | undefined | null>): string[] {
  const out = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string' || value.length < MIN_SECRET_CHARS) continue;
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
  return [...out].filter((s) => s.length >= MIN_SECRET_CHARS).sort((a, b) => b.length - a.length);
}

/**
 * Path segments and query values shorter than this are words of the route
 * (`hooks`, `v1`), not credentials; scrubbing them would shred answers.
 */
export const MIN_URL_PART_CHARS = 8;

/**
 * The secret parts of a URL: the whole URL, its path and query, any password,
 * and each path segment and query value on its own: a receiver answering
 * `no such hook: <last segment>` quotes one part, not the whole path.
 */
export function secretsOfUrl(url: string): string[] {
  try {
    const parsed = new URL(url);
    const pathAndQuery = parsed.pathname + parsed.search;
    const parts = [
      ...parsed.pathname.split('/'),
      ...parsed.search
        .replace(/^\?/, '')
        .split('&')
        .map((pair) => pair.slice(pair.indexOf('=') + 1)),
      ...[...parsed.searchParams.values()],
    ].filter((part) => part.length >= MIN_URL_PART_CHARS);
    return collectSecrets([
      url,
      parsed.href,
      pathAndQuery.length > 1 ? pathAndQuery : undefined,
      parsed.password,
      ...parts,
    ]);
  } catch {
    return collectSecrets([url]);
  }
}

function readString(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

/** Passwords and tokens in a mail transport, wherever nodemailer takes them from. */
export function secretsOfTransport(transport: string | Record<string, unknown>): string[] {
  if (typeof transport === 'string') return secretsOfUrl(transport);
  const auth = isRecord(transport['auth']) ? transport['auth'] : {};
  const url = readString(transport, 'url');
  return collectSecrets([
    ...(url === undefined ? [] : secretsOfUrl(url)),
    ...['pass', 'accessToken', 'refreshToken', 'clientSecret', 'privateKey'].map((key) => readString(auth, key)),
  ]);
}

/**
 * Everything about one destination that must not be recorded: URL parts,
 * every signing secret and private key (expired ones too), transport credentials, and configured header values
 * (an `authorization` or API-key header is a credential).
 */
export function secretsOfDestination(config: DestinationConfig): string[] {
  switch (config.type) {
    case 'slack':
      return secretsOfUrl(config.url);
    case 'email':
      return secretsOfTransport(config.transport);
    case 'webhook':
      return collectSecrets([
        ...listHmacSecrets(config).flatMap(({ secret }) => [secret, secret.replace(/^whsec_/, '')]),
        ...(config.privateKey === undefined ? [] : quotableFormsOfPrivateKey(config.privateKey)),
        ...secretsOfUrl(config.url),
        ...Object.values(config.headers ?? {}).filter((value) => value.length >= MIN_URL_PART_CHARS),
      ]);
  }
}

/** What one destination masks in what it records: its own secrets and every other configured one. */
export function secretsToScrub(config: DestinationConfig, configured: readonly string[] = []): string[] {
  return collectSecrets([...secretsOfDestination(config), ...configured]);
}

/** The secrets of every configured destination, longest first: one list the worker scrubs all it records with. */
export function secretsOfDestinations(configs: Readonly<Record<string, DestinationConfig>>): string[] {
  return collectSecrets(Object.values(configs).flatMap(secretsOfDestination));
}

/** Every configured secret: partner keys, admin and metrics tokens, destinations' credentials and URL parts. */
export function secretsOfConfig(config: Config): string[] {
  return collectSecrets([
    ...listPartnerSecrets(config.skypay.partners),
    config.admin.token,
    config.metrics.token,
    ...secretsOfDestinations(config.destinations),
  ]);
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
      Object.defineProperty(safe, key, {
        value: typeof value === 'string' ? scrubSecrets(value, secrets) : value,
        enumerable: true,
      });
    }
  }
  return safe;
}
