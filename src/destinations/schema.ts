import addressparser from 'nodemailer/lib/addressparser';
import { Webhook } from 'standardwebhooks';
import { array, define, dynamic, literal, optional, record, refine, string, type } from 'superstruct';
import type { Infer, Struct } from 'superstruct';
import type { OrderedOnDead } from '../delivery/types';
import { isRecord } from '../is-record';
import { BreakerSetting } from './breaker';
import { ED25519_PRIVATE_KEY_FORMAT, KeyFormatError, readEd25519PrivateKey } from './keys';
import { findMaskFieldProblem } from './masking';
import { findSigningProblems, parseExpiresAt, type SigningConfig } from './signing';

/**
 * Destination config as operators write it. Every message says what was
 * expected and never echoes the value back: URLs, secrets and SMTP settings
 * are credentials, and validation errors end up in logs.
 */

const WEBHOOK_SECRET_PREFIX = 'whsec_';
const MIN_SECRET_BYTES = 24;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Ours to set: a configured header must not be able to forge or break the signature.
const RESERVED_HEADERS = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'content-type',
  'content-length',
  'host',
]);

export const DEFAULT_SUBJECT_PREFIX = '[skyrelay]';
export const DEFAULT_MAX_IN_FLIGHT = 4;

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const HttpUrl = define<string>('http(s) URL', (value) => isHttpUrl(value) || 'Expected an http:// or https:// URL');

const PositiveInteger = define<number>(
  'positive integer',
  (value) =>
    (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) ||
    'Expected a positive integer (the most deliveries to this destination at once)',
);

function isEmailAddress(value: unknown): boolean {
  if (typeof value !== 'string' || /[\r\n]/.test(value)) return false;
  const parsed = addressparser(value);
  const only = parsed[0];
  return (
    parsed.length === 1 && only !== undefined && only.group === undefined && /^[^\s@]+@[^\s@]+$/.test(only.address)
  );
}

const EmailAddress = define<string>(
  'email address',
  (value) => isEmailAddress(value) || 'Expected an email address such as ops@example.com or "Ops <ops@example.com>"',
);

const AddressList = refine(
  array(EmailAddress),
  'non-empty',
  (value) => value.length > 0 || 'Expected at least one email address',
);

function isSmtpUrl(value: string): boolean {
  try {
    const protocol = new URL(value).protocol;
    return protocol === 'smtp:' || protocol === 'smtps:';
  } catch {
    return false;
  }
}

/** A string goes to nodemailer's URL parser; an object is handed to createTransport as is. */
const Transport = define<string | Record<string, unknown>>(
  'mail transport',
  (value) =>
    (typeof value === 'string' ? isSmtpUrl(value) : isRecord(value)) ||
    'Expected an smtp:// or smtps:// URL, or a nodemailer transport options object',
);

function isWebhookSecret(value: unknown): boolean {
  if (typeof value !== 'string' || !value.startsWith(WEBHOOK_SECRET_PREFIX)) return false;
  const base64 = value.slice(WEBHOOK_SECRET_PREFIX.length);
  if (!BASE64.test(base64) || Buffer.from(base64, 'base64').length < MIN_SECRET_BYTES) return false;
  try {
    // The signing library decodes with its own Base64 codec; make sure it agrees.
    new Webhook(value);
    return true;
  } catch {
    return false;
  }
}

const WebhookSecret = define<string>(
  'webhook secret',
  (value) =>
    isWebhookSecret(value) ||
    `Expected a ${WEBHOOK_SECRET_PREFIX} secret with at least ${MIN_SECRET_BYTES} bytes of Base64 (e.g. whsec_ followed by 32 Base64 characters)`,
);

/** When a secret stops signing: an offset is required, so the instant does not depend on the host's time zone. */
const ExpiresAt = define<string>(
  'expiry time',
  (value) =>
    (typeof value === 'string' && parseExpiresAt(value) !== undefined) ||
    'Expected an RFC 3339 time with its offset, such as 2026-12-31T00:00:00Z',
);

/** One secret of a rotation: it signs every attempt made before its expiresAt (for good without one). */
const SigningSecret = refuseUnknownKeys(type({ secret: WebhookSecret, expiresAt: optional(ExpiresAt) }));

const SigningSecrets = refine(
  array(SigningSecret),
  'non-empty',
  (value) => value.length > 0 || 'Expected at least one {"secret": "whsec_..."}',
);

const Signing = define<'ed25519'>(
  'signing scheme',
  (value) =>
    value === 'ed25519' ||
    'Expected "ed25519" (HMAC signing needs no setting: it is on whenever "secret" or "secrets" is set)',
);

const Ed25519PrivateKey = define<string>('Ed25519 private key', (value) => {
  if (typeof value !== 'string') return `Expected ${ED25519_PRIVATE_KEY_FORMAT}`;
  try {
    readEd25519PrivateKey(value);
    return true;
  } catch (err) {
    if (err instanceof KeyFormatError) return err.message;
    throw err;
  }
});

/** findSigningProblems, each reported at the key it is about. */
function refuseBadSigning<T extends SigningConfig, S>(struct: Struct<T, S>): Struct<T, S> {
  return refine(struct, 'signing', (value, context) =>
    findSigningProblems(value).map((problem) => ({
      path: [...context.path, ...problem.path],
      message: problem.message,
    })),
  );
}

const HeaderName = define<string>(
  'header name',
  (value) =>
    (typeof value === 'string' && HEADER_NAME.test(value) && !RESERVED_HEADERS.has(value.toLowerCase())) ||
    `Expected an HTTP header name other than ${[...RESERVED_HEADERS].join(', ')}`,
);

const HeaderValue = define<string>(
  'header value',
  (value) => (typeof value === 'string' && !/[\r\n\0]/.test(value)) || 'Expected a header value on a single line',
);

/** `type()` plus a refusal of unknown keys that names the key (superstruct's own `object()` prints the value). */
function refuseUnknownKeys<T extends object, S>(struct: Struct<T, S>): Struct<T, S> {
  const known = isRecord(struct.schema) ? Object.keys(struct.schema) : [];
  return refine(struct, 'known keys', (value) => {
    const unknown = Object.keys(value).filter((key) => !known.includes(key));
    return (
      unknown.length === 0 ||
      `Unknown key ${unknown.map((k) => JSON.stringify(k)).join(', ')}; expected only ${known.join(', ')}`
    );
  });
}

const NonNegativeInteger = define<number>(
  'non-negative integer',
  (value) =>
    (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) ||
    'Expected a whole number of milliseconds, 0 or more',
);

const GroupField = define<string>(
  'group field',
  (value) =>
    (typeof value === 'string' && value.trim() !== '') ||
    'Expected an event field name, as in a rule match (payType, partner, extra.channel, ...)',
);

/** Alertmanager's group_by, group_wait and group_interval, for one Slack or email destination. */
export const GroupConfig = refuseUnknownKeys(
  type({
    by: optional(refine(array(GroupField), 'non-empty', (v) => v.length > 0 || 'Expected at least one field')),
    waitMs: optional(NonNegativeInteger),
    intervalMs: optional(
      define<number>(
        'positive integer',
        (value) =>
          (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) ||
          'Expected a whole number of milliseconds above 0',
      ),
    ),
  }),
);
export type GroupConfig = Infer<typeof GroupConfig>;

export const DEFAULT_GROUP = { by: ['payType', 'partner'], waitMs: 30_000, intervalMs: 300_000 } as const;
export const DEFAULT_SLACK_RATE_PER_SECOND = 1;

const RatePerSecond = define<number>(
  'rate',
  (value) =>
    (typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= 1000) ||
    'Expected a number of messages per second above 0 and at most 1000',
);

/**
 * A field a destination omits or masks. An unknown name is refused at start rather than ignored: a typo
 * (`referenceNo`) would otherwise silently send what the operator meant to hide.
 */
const MaskField = define<string>('field name', (value) =>
  typeof value === 'string' ? (findMaskFieldProblem(value) ?? true) : 'Expected a field name',
);
const MaskFields = array(MaskField);

export const DEFAULT_ORDERED_ON_DEAD: OrderedOnDead = 'continue';

const Ordered = define<boolean>(
  'ordered',
  (value) =>
    typeof value === 'boolean' ||
    "Expected true (each payout's events are sent one at a time, in the order skyrelay stored them) or false",
);

const OrderedOnDead = define<OrderedOnDead>(
  'orderedOnDead',
  (value) =>
    value === 'continue' ||
    value === 'hold' ||
    'Expected "continue" (the payout\'s later events go on after one dies) or "hold" (they wait for a replay or a release)',
);

/**
 * Ordering is a webhook's: Slack and email are read by people, a rate-limited Slack channel would hold every payout
 * behind one message, and a grouped message carries many payouts. Refused by name rather than as an unknown key.
 */
const ONLY_WEBHOOKS =
  'Only webhook destinations deliver in order: a Slack or email message is read by a person, not applied by a ' +
  'program, and a grouped message carries many payouts; remove it here';
const NotOrdered = define<false>('ordered', (value) => value === false || ONLY_WEBHOOKS);
const NoOrderedOnDead = define<never>('orderedOnDead', () => ONLY_WEBHOOKS);

/** orderedOnDead without ordered would be a setting that does nothing: said, not ignored. */
function refuseOrphanOnDead<T extends { ordered?: boolean | undefined; orderedOnDead?: OrderedOnDead | undefined }, S>(
  struct: Struct<T, S>,
): Struct<T, S> {
  return refine(struct, 'orderedOnDead', (value, context) =>
    value.orderedOnDead === undefined || value.ordered === true
      ? true
      : [{ path: [...context.path, 'orderedOnDead'], message: 'orderedOnDead applies only with "ordered": true' }],
  );
}

/** A field both omitted and masked is a contradiction worth saying, not a choice to make silently. */
function refuseOmittedAndMasked<T extends { omit?: string[] | undefined; mask?: string[] | undefined }, S>(
  struct: Struct<T, S>,
): Struct<T, S> {
  return refine(struct, 'omit or mask', (value) => {
    const both = (value.omit ?? []).filter((f) => (value.mask ?? []).includes(f));
    return both.length === 0 || `${both.map((f) => JSON.stringify(f)).join(', ')}: in both omit and mask; pick one`;
  });
}

export const SlackDestinationConfig = refuseOmittedAndMasked(
  refuseUnknownKeys(
    type({
      type: literal('slack'),
      url: HttpUrl,
      maxInFlight: optional(PositiveInteger),
      breaker: optional(BreakerSetting),
      group: optional(GroupConfig),
      ratePerSecond: optional(RatePerSecond),
      omit: optional(MaskFields),
      mask: optional(MaskFields),
      ordered: optional(NotOrdered),
      orderedOnDead: optional(NoOrderedOnDead),
    }),
  ),
);

export const EmailDestinationConfig = refuseOmittedAndMasked(
  refuseUnknownKeys(
    type({
      type: literal('email'),
      transport: Transport,
      from: EmailAddress,
      to: AddressList,
      cc: optional(array(EmailAddress)),
      subjectPrefix: optional(string()),
      maxInFlight: optional(PositiveInteger),
      breaker: optional(BreakerSetting),
      group: optional(GroupConfig),
      omit: optional(MaskFields),
      mask: optional(MaskFields),
      ordered: optional(NotOrdered),
      orderedOnDead: optional(NoOrderedOnDead),
    }),
  ),
);

export const WebhookDestinationConfig = refuseBadSigning(
  refuseOmittedAndMasked(
    refuseUnknownKeys(
      type({
        type: literal('webhook'),
        url: HttpUrl,
        /** One HMAC secret; `secrets` instead during a rotation. */
        secret: optional(WebhookSecret),
        secrets: optional(SigningSecrets),
        /** "ed25519": every attempt is signed `v1a` with `privateKey` too. */
        signing: optional(Signing),
        privateKey: optional(Ed25519PrivateKey),
        headers: optional(record(HeaderName, HeaderValue)),
        maxInFlight: optional(PositiveInteger),
        /** Failures in a row that pause sends but for one probe per interval; false for none. */
        breaker: optional(BreakerSetting),
        omit: optional(MaskFields),
        mask: optional(MaskFields),
        /** Each payout's events one at a time, in the order stored (docs/architecture.md). */
        ordered: optional(Ordered),
        orderedOnDead: optional(OrderedOnDead),
      }),
    ),
  ),
);

export type SlackDestinationConfig = Infer<typeof SlackDestinationConfig>;
export type EmailDestinationConfig = Infer<typeof EmailDestinationConfig>;
export type WebhookDestinationConfig = Infer<typeof WebhookDestinationConfig>;
export type DestinationConfig = SlackDestinationConfig | EmailDestinationConfig | WebhookDestinationConfig;

/**
 * Struct<T> is invariant in T (T appears in its refiner's parameters), but a
 * struct for one member only ever accepts values of the union: widening is sound.
 */
function widen<T extends DestinationConfig, S>(struct: Struct<T, S>): Struct<DestinationConfig, S> {
  return struct as unknown as Struct<DestinationConfig, S>;
}

// Always fails; typed as the union only so dynamic() accepts it as a branch.
const UnknownDestinationType = define<DestinationConfig>(
  'destination type',
  () => 'Expected "type" to be "slack", "email" or "webhook"',
);

/**
 * Picks the struct by `type` instead of using union(), whose failure only
 * says "no member matched" and hides which field is wrong.
 */
export const DestinationConfig: Struct<DestinationConfig, null> = dynamic<DestinationConfig>((value) => {
  switch (isRecord(value) ? value['type'] : undefined) {
    case 'slack':
      return widen(SlackDestinationConfig);
    case 'email':
      return widen(EmailDestinationConfig);
    case 'webhook':
      return widen(refuseOrphanOnDead(WebhookDestinationConfig));
    default:
      return UnknownDestinationType;
  }
});

const DestinationName = define<string>(
  'destination name',
  (value) => (typeof value === 'string' && value.trim() !== '') || 'Expected a non-empty destination name',
);

export const DestinationsConfig = record(DestinationName, DestinationConfig);
export type DestinationsConfig = Infer<typeof DestinationsConfig>;
