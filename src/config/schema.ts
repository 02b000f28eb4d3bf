import {
  array,
  boolean,
  coerce,
  defaulted,
  define,
  dynamic,
  enums,
  integer,
  object,
  optional,
  record,
  refine,
  size,
  string,
  type Infer,
  type Struct,
} from 'superstruct';
import { DestinationsConfig } from '../destinations/schema';
import { readDuration } from '../duration';
import { RulesConfig } from '../routing/schema';

const PositiveInt = refine(integer(), 'positive', (v) => v > 0 || 'must be a positive integer');
const NonNegativeInt = refine(integer(), 'non-negative', (v) => v >= 0 || 'must be an integer, 0 or more');
const Port = refine(integer(), 'port', (v) => (v >= 0 && v <= 65535) || 'must be an integer from 0 to 65535');
const BodyLimit = refine(
  string(),
  'bodyLimit',
  (v) => /^\d+(\.\d+)?\s*(b|kb|mb)$/i.test(v) || 'must be a size such as "1mb" or "512kb"',
);
const Offset = refine(string(), 'timezone', (v) => /^[+-]\d{2}:\d{2}$/.test(v) || 'must be an offset such as "+08:00"');
/** A time of day, HH:MM (24-hour clock). */
const DailyTime = refine(
  string(),
  'time of day',
  (v) => /^([01]\d|2[0-3]):[0-5]\d$/.test(v) || 'must be a time of day as HH:MM, such as "09:00"',
);
/** Only the scheme is checked and said: the rest may hold a password. */
const DatabaseUrl = refine(
  size(string(), 1, 4096),
  'database url',
  (v) => /^postgres(ql)?:\/\//.test(v) || 'must be a postgres:// URL',
);
const UrlPath = refine(string(), 'path', (v) => /^\/\S*$/.test(v) || 'must be a URL path starting with "/"');
const Key = size(string(), 1, 200);
/** Only the scheme is checked and said: SkyPay's URL names the partner's callerName. */
const HttpUrl = refine(size(string(), 1, 2048), 'http url', (v) => {
  try {
    const url = new URL(v);
    return url.protocol === 'https:' || url.protocol === 'http:' || 'must be an http:// or https:// URL';
  } catch {
    return 'must be an http:// or https:// URL';
  }
});
/** SkyPay answers at most 50 control numbers per status query. */
const StatusQueryBatch = refine(
  integer(),
  'batchSize',
  (v) => (v >= 1 && v <= 50) || 'must be an integer from 1 to 50',
);

/**
 * SkyPay's 7.1 status query (payoutQueryStatus): off while `url` is absent. `partner` names a configured partner
 * whose userName, first authentication key and first encrypt key sign and encrypt the query (checked at start).
 */
const StatusQuery = object({
  url: optional(HttpUrl),
  partner: optional(size(string(), 1, 50)),
  /** SkyPay asks for no more than one query every 30 minutes; lower is allowed, with a warning at start. */
  intervalMs: defaulted(PositiveInt, 1_800_000),
  /** SkyPay asks not to query a payout until 300 s after it was sent. */
  minAgeMs: defaulted(PositiveInt, 300_000),
  batchSize: defaulted(StatusQueryBatch, 50),
  timeoutMs: defaulted(PositiveInt, 10_000),
});
/** Where people reach skyrelay (scheme, host, optional path), e.g. https://relay.example.com: no query or fragment. */
const PublicUrl = refine(
  size(string(), 1, 2048),
  'public url',
  (v) =>
    /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(v) || 'must be an http:// or https:// URL without query or fragment',
);

/** A wait: milliseconds, or a duration such as "90m", "6h", "3d"; 0 turns the check off. */
const Wait = coerce(
  define<number>(
    'wait',
    (v) =>
      (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) ||
      'must be milliseconds (0 or more) or a duration such as "90m", "6h" or "3d"',
  ),
  string(),
  (v) => (v.trim() === '0' ? 0 : (readDuration(v) ?? v)),
);
/** The open states' waits: a state left out takes the wait of the level below. */
const StateWaits = object({
  uploaded: optional(Wait),
  amendedSuccess: optional(Wait),
  amendedFailure: optional(Wait),
});
/** One wait for all of a partner's open states, or one per state. */
type PartnerWaitsValue = number | Infer<typeof StateWaits>;
// Struct<T> is invariant in T, but each branch only ever accepts values of the union: widening is sound.
const PartnerWaits = dynamic<PartnerWaitsValue>(
  (v) => (typeof v === 'object' && v !== null ? StateWaits : Wait) as unknown as Struct<PartnerWaitsValue, null>,
);

export const ROLES = ['ingest', 'delivery'] as const;
export type Role = (typeof ROLES)[number];
/**
 * What this instance does: `ingest` mounts the callback route, `delivery` runs the delivery worker. A list, or
 * the comma-separated text SKYRELAY_ROLES gives ("ingest,delivery"); at least one, each named once.
 */
const Roles = coerce(
  refine(
    size(array(enums(ROLES)), 1, ROLES.length),
    'roles',
    (v) => new Set(v).size === v.length || 'names a role twice',
  ),
  string(),
  (v) =>
    v
      .split(',')
      .map((r) => r.trim())
      .filter((r) => r !== ''),
);

const Partner = object({
  userName: size(string(), 1, 50),
  authentication: size(array(Key), 1, 20),
  encryptKeys: defaulted(array(Key), []),
});

export const ConfigStruct = object({
  /** Both by default; SQLite allows any mix across the processes of one host, PostgreSQL across hosts. */
  roles: defaulted(Roles, ['ingest', 'delivery']),
  server: defaulted(
    object({
      host: defaulted(string(), '0.0.0.0'),
      port: defaulted(Port, 8080),
      bodyLimit: defaulted(BodyLimit, '1mb'),
      /** A callback body not complete this long after its headers gets 408 and its connection is closed. */
      bodyTimeoutMs: defaulted(PositiveInt, 10_000),
      /** Memory shared by bodies over 64 KB being read at once; one that does not fit gets 503 unread. */
      maxBodyMemory: defaulted(BodyLimit, '64mb'),
      maxConnections: defaulted(PositiveInt, 1024),
      trustProxy: defaulted(boolean(), false),
      /**
       * With trustProxy: how many proxies in front append to X-Forwarded-For. The client's address is the entry
       * that many from the right (what the outermost trusted proxy saw); entries left of it are the client's own
       * text, never taken.
       */
      proxyHops: defaulted(PositiveInt, 1),
      shutdownTimeoutMs: defaulted(PositiveInt, 10_000),
      /**
       * Wrong admin, metrics or dashboard tokens from one address: after maxFailures within windowMs it gets 429
       * for lockoutMs, doubling up to maxLockoutMs; at most maxAddresses are tracked.
       */
      authThrottle: defaulted(
        object({
          maxFailures: defaulted(PositiveInt, 10),
          windowMs: defaulted(PositiveInt, 60_000),
          lockoutMs: defaulted(PositiveInt, 60_000),
          maxLockoutMs: defaulted(PositiveInt, 3_600_000),
          maxAddresses: defaulted(PositiveInt, 10_000),
        }),
        {},
      ),
    }),
    {},
  ),
  store: defaulted(
    object({
      path: defaulted(size(string(), 1, 4096), 'data/skyrelay.db'),
      /** postgres://... selects PostgreSQL instead of the SQLite file at `path` (env SKYRELAY_DATABASE_URL). */
      url: optional(DatabaseUrl),
      /** PostgreSQL connections per process. */
      poolSize: defaulted(PositiveInt, 10),
      busyTimeoutMs: defaulted(PositiveInt, 5_000),
      synchronous: defaulted(enums(['FULL', 'NORMAL']), 'FULL'),
      retentionDays: defaulted(PositiveInt, 90),
      rejectionRetentionDays: defaulted(PositiveInt, 30),
      /** How long a callback's identity outlives nothing: unset keeps it forever, so an old replay stays a duplicate. */
      dedupRetentionDays: optional(PositiveInt),
      /** How often the retention job runs, and how many rows one of its transactions deletes. */
      retentionIntervalMs: defaulted(PositiveInt, 3_600_000),
      retentionBatchSize: defaulted(PositiveInt, 500),
      /**
       * Rejected callbacks kept as rows per reason and address block (IPv4 /24, IPv6 /64) per minute; the rest are
       * only counted.
       */
      maxRejectionsPerMinute: defaulted(PositiveInt, 20),
      /** Rejected callbacks kept as rows per minute across all addresses, by every process on the database. */
      maxRejectionsPerMinuteTotal: defaulted(PositiveInt, 100),
    }),
    {},
  ),
  skypay: object({
    path: defaulted(UrlPath, '/callbacks/skypay'),
    /** A path of its own for financeNotification callbacks (skypay.path takes them too). */
    financePath: optional(UrlPath),
    statusQuery: defaulted(StatusQuery, {}),
    timezone: defaulted(Offset, '+08:00'),
    /** Off unless set: callbacks whose dealTime is older, or further ahead of now, are rejected with 400. */
    maxAgeDays: optional(PositiveInt),
    maxFutureMinutes: optional(PositiveInt),
    partners: size(array(Partner), 1, 100),
  }),
  destinations: defaulted(DestinationsConfig, {}),
  rules: defaulted(RulesConfig, []),
  delivery: defaulted(
    object({
      maxAttempts: defaulted(PositiveInt, 12),
      initialBackoffMs: defaulted(PositiveInt, 5_000),
      maxBackoffMs: defaulted(PositiveInt, 3_600_000),
      timeoutMs: defaulted(PositiveInt, 10_000),
      maxInFlight: defaulted(PositiveInt, 4),
      pollIntervalMs: defaulted(PositiveInt, 1_000),
    }),
    {},
  ),
  metrics: defaulted(
    object({
      enabled: defaulted(boolean(), true),
      /** How often each process adds its counts to the shared totals /metrics serves. */
      publishIntervalMs: defaulted(PositiveInt, 5_000),
      /** Where Prometheus scrapes. */
      path: defaulted(UrlPath, '/metrics'),
      /** When set, a scrape needs `Authorization: Bearer <token>`. */
      token: optional(size(string(), 16, 512)),
    }),
    {},
  ),
  alerts: defaulted(
    object({
      /** At most one rejection alert per reason and destination in this window; the rest are counted. */
      rejectionWindowMs: defaulted(PositiveInt, 60_000),
    }),
    {},
  ),
  payouts: defaulted(
    object({
      /**
       * How long a payout may stay in an open state (uploaded or amended) with no final status before it raises
       * payout.stuck, for every state and partner not set below; 0 turns it off. Unset: the built-in wait of each
       * state (src/payouts/stuck-after.ts).
       */
      stuckAfterMs: optional(NonNegativeInt),
      /** The wait per open state, over stuckAfterMs. */
      stuckAfter: defaulted(StateWaits, {}),
      /** The wait for one partner's payouts (a configured userName): one for all its open states, or per state. */
      stuckAfterByPartner: defaulted(record(size(string(), 1, 50), PartnerWaits), {}),
      /** How often one process of the cluster looks for stuck payouts. */
      checkIntervalMs: defaulted(PositiveInt, 60_000),
    }),
    {},
  ),
  /** The daily ledger (docs/operations.md): yesterday's callbacks, events, routes and payouts added up. */
  ledger: defaulted(
    object({
      /**
       * When the daily summary (skyrelay.ledger.daily, of the day before) is raised, as HH:MM in skypay.timezone;
       * off while unset. One process of the cluster raises it, once per day.
       */
      dailyAt: optional(DailyTime),
      /** How often each process looks whether the day's summary is due (the first one due raises it). */
      checkIntervalMs: defaulted(PositiveInt, 60_000),
    }),
    {},
  ),
  admin: defaulted(
    object({
      token: optional(size(string(), 16, 512)),
    }),
    {},
  ),
  silences: defaulted(
    object({
      /** How often each process reads the silences again: a silence made elsewhere holds here within this long. */
      refreshIntervalMs: defaulted(PositiveInt, 1_000),
      /** The longest a silence may last: one that outlives the outage it was made for hides the next one. */
      maxDurationMs: defaulted(PositiveInt, 7 * 86_400_000),
    }),
    {},
  ),
  /** The dashboard at /ui, served only when admin.token is set (its sign-in takes that token). */
  ui: defaulted(
    object({
      /** skyrelay's address as people reach it: Slack and email messages then link to the event's dashboard page. */
      publicUrl: optional(PublicUrl),
      /** How long a dashboard sign-in lasts. */
      sessionHours: defaulted(
        refine(integer(), 'hours', (v) => (v >= 1 && v <= 168) || 'must be from 1 to 168'),
        8,
      ),
    }),
    {},
  ),
  log: defaulted(
    object({
      level: defaulted(enums(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
    }),
    {},
  ),
});

export type Config = Infer<typeof ConfigStruct>;
