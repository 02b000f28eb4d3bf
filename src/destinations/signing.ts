import { createHmac, sign } from 'node:crypto';
import { readEd25519PrivateKey, readHmacKey } from './keys';

/**
 * The `webhook-signature` header of one attempt, per Standard Webhooks: a
 * space-separated list with one `v1,<HMAC-SHA256>` per secret not yet expired
 * and one `v1a,<Ed25519>` when asymmetric signing is on. A receiver holding
 * any one of the secrets, or the public key, verifies; so a secret rotates
 * with no window in which either the old or the new one fails.
 */

/** A webhook destination's signing settings, as the schema validated them. */
export interface SigningConfig {
  secret?: string | undefined;
  secrets?: ReadonlyArray<{ secret: string; expiresAt?: string | undefined }> | undefined;
  signing?: 'ed25519' | undefined;
  privateKey?: string | undefined;
}

export interface SignedHeaders {
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export interface WebhookSigner {
  /** Signs `{id}.{timestamp}.{body}` for an attempt made at `nowMs`, with what is valid at that instant. */
  sign(id: string, body: string, nowMs: number): SignedHeaders;
}

interface HmacKey {
  key: Buffer;
  /** Signs while the attempt's clock is before this; undefined: for good. */
  expiresAtMs: number | undefined;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):(\d{2}))$/i;

/**
 * An RFC 3339 time with its offset (`2026-12-31T00:00:00Z`, `2027-01-01T08:00:00+08:00`), in ms; undefined for
 * anything else. Date.parse alone would read `2026-02-30` as March 2nd and a time without offset in the host's zone.
 */
export function parseExpiresAt(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offsetHours = 0, offsetMinutes = 0] = m
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part)));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const valid =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHours <= 23 &&
    offsetMinutes <= 59;
  const ms = Date.parse(text);
  return valid && Number.isFinite(ms) ? ms : undefined;
}

/** The secrets a destination signs with at `nowMs`, in configured order: pure, for the signer and its tests. */
export function selectUnexpired<T extends { expiresAtMs: number | undefined }>(keys: readonly T[], nowMs: number): T[] {
  return keys.filter((k) => k.expiresAtMs === undefined || nowMs < k.expiresAtMs);
}

/** The configured HMAC secrets (the single `secret`, or the `secrets` list), in the order they sign. */
export function listHmacSecrets(config: SigningConfig): Array<{ secret: string; expiresAt: string | undefined }> {
  if (config.secrets !== undefined) return config.secrets.map((s) => ({ secret: s.secret, expiresAt: s.expiresAt }));
  return config.secret === undefined ? [] : [{ secret: config.secret, expiresAt: undefined }];
}

/**
 * Keys are decoded once, here; which secrets sign is decided at each attempt
 * from its clock, so an expired secret drops out without a restart.
 * HMAC-SHA256 is node:crypto's (the standardwebhooks package's JavaScript
 * SHA-256 took 5x as long); tests verify with that package and with svix.
 */
export function createWebhookSigner(config: SigningConfig): WebhookSigner {
  const hmacKeys: HmacKey[] = listHmacSecrets(config).map(({ secret, expiresAt }) => ({
    key: readHmacKey(secret),
    expiresAtMs: expiresAt === undefined ? undefined : parseExpiresAt(expiresAt),
  }));
  const ed25519 =
    config.signing === 'ed25519' && config.privateKey !== undefined
      ? readEd25519PrivateKey(config.privateKey).privateKey
      : undefined;
  return {
    sign(id, body, nowMs) {
      const timestamp = String(Math.floor(nowMs / 1000));
      // Encoded once, whatever the number of signatures.
      const content = Buffer.from(`${id}.${timestamp}.${body}`, 'utf8');
      const signatures = selectUnexpired(hmacKeys, nowMs).map(
        ({ key }) => `v1,${createHmac('sha256', key).update(content).digest('base64')}`,
      );
      if (ed25519 !== undefined) signatures.push(`v1a,${sign(null, content, ed25519).toString('base64')}`);
      return { 'webhook-timestamp': timestamp, 'webhook-signature': signatures.join(' ') };
    },
  };
}

export interface SigningProblem {
  /** Under the destination's key, e.g. ['secrets', 1, 'secret']. */
  path: Array<string | number>;
  message: string;
}

/**
 * What the schema cannot say key by key. Pure and independent of the clock:
 * a configuration valid today stays valid tomorrow, so an expired secret is
 * a warning (listExpiredSecrets), never a refusal to start.
 */
export function findSigningProblems(config: SigningConfig): SigningProblem[] {
  const problems: SigningProblem[] = [];
  const asymmetric = config.signing === 'ed25519';
  if (config.secret !== undefined && config.secrets !== undefined) {
    problems.push({
      path: ['secrets'],
      message: 'Expected either "secret" or "secrets", not both (during a rotation "secrets" lists every secret)',
    });
  }
  if (config.secret === undefined && config.secrets === undefined && !asymmetric && config.privateKey === undefined) {
    problems.push({
      path: ['secret'],
      message: 'Expected a signing secret: "secret", "secrets", or "signing": "ed25519" with "privateKey"',
    });
  }
  if (asymmetric && config.privateKey === undefined) {
    problems.push({ path: ['privateKey'], message: 'Expected a whsk_ private key with "signing": "ed25519"' });
  }
  if (!asymmetric && config.privateKey !== undefined) {
    problems.push({ path: ['signing'], message: 'Expected "ed25519" with "privateKey" (or no "privateKey")' });
  }
  const secrets = config.secrets ?? [];
  if (secrets.length > 0 && !asymmetric && secrets.every((s) => s.expiresAt !== undefined)) {
    problems.push({
      path: ['secrets'],
      message:
        'Expected one secret without "expiresAt" (the one that goes on signing) or "signing": "ed25519": ' +
        'once every secret has expired nothing would sign',
    });
  }
  secrets.forEach((entry, i) => {
    const first = secrets.findIndex((other) => other.secret === entry.secret);
    if (first < i) {
      problems.push({ path: ['secrets', i, 'secret'], message: `Expected a secret other than secrets.${first}'s` });
    }
  });
  return problems;
}

/** Secrets whose expiresAt has passed at `nowMs`: they sign nothing any more and can be removed. */
export function listExpiredSecrets(config: SigningConfig, nowMs: number): Array<{ index: number; expiresAt: string }> {
  return (config.secrets ?? []).flatMap((s, index) => {
    const at = s.expiresAt === undefined ? undefined : parseExpiresAt(s.expiresAt);
    return at !== undefined && nowMs >= at && s.expiresAt !== undefined ? [{ index, expiresAt: s.expiresAt }] : [];
  });
}
