import { StructError, create } from 'superstruct';
import { listExpiredSecrets } from '../destinations/signing';
import { isWithin } from '../http/path-guard';
import { checkRules } from '../routing/schema';
import { ConfigStruct, type Config } from './schema';

/**
 * The daemon's exit code for an invalid configuration (sysexits' EX_CONFIG).
 * Not 1: Node and pm2 exit 1 on a crash, which pm2 must keep restarting,
 * while a restart cannot fix a configuration (ecosystem.config.js lists this
 * code in stop_exit_codes).
 */
export const CONFIG_ERROR_EXIT_CODE = 78;

/** A configuration problem, named by its key, so start-up can fail with one clear line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates a merged configuration object once, at start. Modules receive
 * the result; none of them reads process.env.
 */
export function validateConfig(raw: unknown, options: { production?: boolean } = {}): Config {
  let config: Config;
  try {
    config = create(raw, ConfigStruct);
  } catch (err) {
    if (err instanceof StructError) throw new ConfigError(err.failures().map(describeFailure));
    throw err;
  }
  const problems = [
    ...checkRules(config.rules, Object.keys(config.destinations)),
    ...checkPartners(config),
    ...checkPaths(config),
    ...checkStatusQuery(config),
    ...(options.production ? checkNoSampleKey(config) : []),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Reads node-config (config/*.json, NODE_ENV overlays, environment variables, NODE_CONFIG) and validates it. */
export function loadConfig(): Config {
  // Required lazily: node-config reads the environment when first loaded, and only the entry points should.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeConfig = require('config') as NodeConfig;
  const envProblems = checkNumericEnv(customEnvMapping(nodeConfig.util.getConfigSources()), process.env);
  if (envProblems.length > 0) throw new ConfigError(envProblems);
  // NODE_CONFIG_ENV picks node-config's overlays instead of NODE_ENV; either naming production counts.
  const production = ['NODE_ENV', 'NODE_CONFIG_ENV'].some((name) =>
    (nodeConfig.util.getEnv(name) ?? '')
      .split(',')
      .map((e) => e.trim())
      .includes('production'),
  );
  return validateConfig(nodeConfig.util.toObject(), { production });
}

interface NodeConfig {
  util: {
    toObject: (c?: unknown) => unknown;
    getEnv: (name: string) => string | undefined;
    getConfigSources: () => { name: string; original?: string }[];
  };
}

/** The partner and key printed in SkyPay's documentation (config/default.json): anyone can sign with them. */
export const SAMPLE_AUTHENTICATION = '30AC21B2-9EAA-4503-B0F0-7BE5C277ED75';

/** In production a public key would let anyone have callbacks acknowledged and relayed as genuine. */
function checkNoSampleKey(config: Config): string[] {
  const problems: string[] = [];
  config.skypay.partners.forEach((p, i) => {
    if (p.authentication.includes(SAMPLE_AUTHENTICATION)) {
      problems.push(
        `skypay.partners.${i}.authentication: the public sample key from SkyPay's documentation ` +
          'must not be used in production; set SKYRELAY_PARTNERS to your partners and keys (a JSON list)',
      );
    }
  });
  return problems;
}

/** config/custom-environment-variables.json as node-config read it, if it did. */
function customEnvMapping(sources: { name: string; original?: string }[]): unknown {
  const source = sources.find((s) => /custom-environment-variables\.json$/.test(s.name));
  if (source?.original === undefined) return {};
  try {
    return JSON.parse(source.original) as unknown;
  } catch {
    return {};
  }
}

/**
 * node-config's `__format: "number"` turns a variable that is not a number
 * into undefined, and the key then silently takes its default (SKYRELAY_PORT=abc
 * listened on 8080). Such a variable is a configuration error, named by its key.
 */
export function checkNumericEnv(
  mapping: unknown,
  env: Record<string, string | undefined>,
  at: string[] = [],
): string[] {
  if (typeof mapping !== 'object' || mapping === null) return [];
  const m = mapping as Record<string, unknown>;
  if (typeof m['__name'] === 'string' && m['__format'] === 'number') {
    const value = env[m['__name']];
    if (value === undefined || value === '' || !Number.isNaN(Number(value))) return [];
    return [`${at.join('.')}: ${m['__name']} must be a number (got text that is not one)`];
  }
  return Object.entries(m).flatMap(([k, v]) => checkNumericEnv(v, env, [...at, k]));
}

/** Where the status query is on, it must name a partner that can encrypt: SkyPay takes only encrypted queries. */
function checkStatusQuery(config: Config): string[] {
  const query = config.skypay.statusQuery;
  if (query.url === undefined) return [];
  const key = 'skypay.statusQuery.partner';
  const names = config.skypay.partners.map((p) => p.userName);
  if (query.partner === undefined) return [`${key}: is required when skypay.statusQuery.url is set`];
  const partner = config.skypay.partners.find((p) => p.userName === query.partner);
  if (!partner) return [`${key}: "${query.partner}" is not a configured partner (configured: ${names.join(', ')})`];
  if (partner.encryptKeys.length === 0) {
    return [`${key}: partner "${query.partner}" has no encryptKeys; SkyPay takes only encrypted status queries`];
  }
  return [];
}

/** SkyPay's own advice; a lower interval is allowed (tests, a catch-up) but said at start. */
export const STATUS_QUERY_ADVISED_INTERVAL_MS = 1_800_000;

/** What a valid configuration still deserves a warning for, logged once at start (and shown by config check). */
export function listConfigWarnings(config: Config, nowMs: number = Date.now()): string[] {
  const warnings: string[] = [];
  const query = config.skypay.statusQuery;
  if (query.url !== undefined && query.intervalMs < STATUS_QUERY_ADVISED_INTERVAL_MS) {
    warnings.push(
      `skypay.statusQuery.intervalMs: ${query.intervalMs} is below SkyPay's advice of one status query every ` +
        `30 minutes (${STATUS_QUERY_ADVISED_INTERVAL_MS})`,
    );
  }
  return [...warnings, ...listExpiredSecretWarnings(config, nowMs)];
}

/**
 * A secret past its expiresAt is a warning, not an error: it only stops signing, and the schema makes sure another
 * secret (or the Ed25519 key) goes on signing. Refusing to start would make the end of a rotation window an outage
 * at the next restart (pm2 after a crash, a deploy, a second host), and SkyPay does not retry callbacks.
 */
function listExpiredSecretWarnings(config: Config, nowMs: number): string[] {
  return Object.entries(config.destinations).flatMap(([name, destination]) =>
    destination.type !== 'webhook'
      ? []
      : listExpiredSecrets(destination, nowMs).map(
          ({ index, expiresAt }) =>
            `destinations.${name}.secrets.${index}.expiresAt: ${expiresAt} has passed; ` +
            'that secret signs nothing any more, remove it',
        ),
  );
}

function checkPartners(config: Config): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  config.skypay.partners.forEach((p, i) => {
    if (seen.has(p.userName)) problems.push(`skypay.partners.${i}.userName: "${p.userName}" is configured twice`);
    seen.add(p.userName);
  });
  return problems;
}

/**
 * The admin and metrics guards cover every path under theirs, in any
 * spelling: a callback or health path under one of them would need its token.
 */
function checkPaths(config: Config): string[] {
  const problems: string[] = [];
  const financePath = config.skypay.financePath;
  const fixed = [
    ['skypay.path', config.skypay.path],
    ...(financePath === undefined ? [] : [['skypay.financePath', financePath] as const]),
    ['/healthz', '/healthz'],
    ['/readyz', '/readyz'],
  ] as const;
  const underAdmin = "must not be under /admin (the admin API's path)";
  if (isWithin(config.skypay.path, '/admin')) problems.push(`skypay.path: ${underAdmin}`);
  if (financePath !== undefined) {
    if (isWithin(financePath, '/admin')) problems.push(`skypay.financePath: ${underAdmin}`);
    if (financePath === config.skypay.path) {
      problems.push('skypay.financePath: must differ from skypay.path (which takes financeNotification already)');
    }
    for (const other of ['/healthz', '/readyz']) {
      if (financePath === other) problems.push(`skypay.financePath: must not be ${other}`);
    }
  }
  if (config.ui.publicUrl !== undefined && config.admin.token === undefined)
    problems.push('ui.publicUrl: needs admin.token (the dashboard it links to is served only when that is set)');
  // The dashboard's guard covers /ui in every spelling, as the admin guard does /admin.
  const underUi = "must not be under /ui (the dashboard's path, served when admin.token is set)";
  if (config.admin.token !== undefined && isWithin(config.skypay.path, '/ui')) problems.push(`skypay.path: ${underUi}`);
  if (config.admin.token !== undefined && config.metrics.enabled && isWithin(config.metrics.path, '/ui'))
    problems.push(`metrics.path: ${underUi}`);
  if (config.metrics.enabled) {
    const metricsPath = config.metrics.path;
    if (isWithin(metricsPath, '/admin')) problems.push(`metrics.path: ${underAdmin}`);
    for (const [name, other] of fixed) {
      if (isWithin(other, metricsPath)) problems.push(`metrics.path: must not be ${name} or a path above it`);
    }
  }
  return problems;
}

/**
 * superstruct's messages end with "but received: <value>"; the value may be a
 * secret (a malformed webhook secret, an SMTP URL), so only its type is said.
 */
function describeFailure(failure: {
  path: (string | number)[];
  type: string;
  message: string;
  value: unknown;
}): string {
  const key = failure.path.join('.') || '(root)';
  if (failure.type === 'never') return `${key}: is not a known setting (check the spelling)`;
  const rule = failure.message.replace(/,? but received:? .*$/s, '').replace(/^Expected/, 'expected');
  const got =
    failure.value === undefined ? 'nothing' : Array.isArray(failure.value) ? 'a list' : `a ${typeof failure.value}`;
  return `${key}: ${rule} (got ${got})`;
}
