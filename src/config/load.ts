import { validate, type Struct } from 'superstruct';
import { listExpiredSecrets } from '../destinations/signing';
import { isWithin } from '../http/path-guard';
import { isRecord } from '../is-record';
import { listReceivedTypes } from '../routing/event-types';
import { namesSystemEvents } from '../routing/match';
import { checkRules } from '../routing/schema';
import { checkNodeConfigJson, describeLoadError } from './parse-errors';
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
 * the result; none of them reads process.env. Every problem is reported at
 * once (see checkConfig), each naming its key.
 */
export function validateConfig(raw: unknown, options: { production?: boolean } = {}): Config {
  const { config, problems } = checkConfig(raw, options);
  if (config === undefined || problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * The configuration and everything wrong with it. A section that fails its schema does not hide the problems of
 * the others: the checks across sections (rules against destinations, paths against each other, partners) run on
 * every section that is valid by itself, so fixing one problem never brings up the next.
 */
export function checkConfig(
  raw: unknown,
  options: { production?: boolean } = {},
): { config?: Config; problems: string[] } {
  const [error, config] = validate(raw, ConfigStruct, { coerce: true });
  if (error === undefined) {
    return { config, problems: checkAcross(config, Object.keys(config.destinations), options) };
  }
  const failures = error.failures();
  const sections = readValidSections(raw, new Set(failures.map((f) => String(f.path[0] ?? ''))));
  // A destination with a bad field still has its name: rules naming it are not said to name an unknown one.
  const rawDestinations = isRecord(raw) ? raw['destinations'] : undefined;
  const names = sections.destinations
    ? Object.keys(sections.destinations)
    : isRecord(rawDestinations)
      ? Object.keys(rawDestinations)
      : undefined;
  const rules = sections.rules ?? readRuleReferences(isRecord(raw) ? raw['rules'] : undefined);
  return { problems: [...failures.map(describeFailure), ...checkAcross(sections, names, options, rules)] };
}

type RuleReferences = Parameters<typeof checkRules>[0][number];

/** What checkRules reads of rules that fail their schema: a rule with a bad match still names its destinations. */
function readRuleReferences(raw: unknown): RuleReferences[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  return raw.map((rule: unknown) => {
    const name = isRecord(rule) && typeof rule['name'] === 'string' && rule['name'] !== '' ? rule['name'] : undefined;
    const to = isRecord(rule) && Array.isArray(rule['to']) ? rule['to'] : [];
    return { name, to: to.filter((d): d is string => typeof d === 'string' && d !== '') };
  });
}

/** The top-level sections that pass their own schema (with their defaults), when the whole does not. */
function readValidSections(raw: unknown, failed: ReadonlySet<string>): Partial<Config> {
  if (!isRecord(raw) || failed.has('')) return {};
  const sections: Record<string, unknown> = {};
  // Struct<T> is invariant in T: each section's struct only ever reads an unknown value, so the widening is sound.
  const structs = ConfigStruct.schema as unknown as Record<string, Struct<unknown, unknown>>;
  for (const [key, struct] of Object.entries(structs)) {
    if (failed.has(key)) continue;
    const [error, value] = validate(raw[key], struct, { coerce: true });
    if (error === undefined) sections[key] = value;
  }
  return sections;
}

/** The checks a struct cannot make, each run when the sections it reads are valid. */
function checkAcross(
  c: Partial<Config>,
  destinationNames: readonly string[] | undefined,
  options: { production?: boolean },
  rules: readonly RuleReferences[] | undefined = c.rules,
): string[] {
  const problems: string[] = [];
  if (rules && destinationNames) problems.push(...checkRules(rules, destinationNames));
  if (c.skypay) {
    problems.push(...checkPartners(c.skypay), ...checkStatusQuery(c.skypay));
    if (options.production) problems.push(...checkNoSampleKey(c.skypay));
  }
  if (c.payouts && c.skypay) problems.push(...checkStuckPartners(c.payouts, c.skypay));
  if (c.skypay && c.ui && c.admin && c.metrics) {
    problems.push(...checkPaths({ skypay: c.skypay, ui: c.ui, admin: c.admin, metrics: c.metrics }));
  }
  return problems;
}

/**
 * Reads node-config (config/*.json, NODE_ENV overlays, environment variables, NODE_CONFIG) and validates it. A file
 * or variable that does not parse is a ConfigError like any other (exit 78: restarting cannot fix it).
 */
export function loadConfig(): Config {
  const parseProblems = checkNodeConfigJson(process.env, process.argv);
  let nodeConfig: NodeConfig;
  try {
    // Required lazily: node-config reads the environment when first loaded, and only the entry points should.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    nodeConfig = require('config') as NodeConfig;
  } catch (err) {
    throw new ConfigError([...parseProblems, describeLoadError(err)]);
  }
  const envProblems = checkNumericEnv(customEnvMapping(nodeConfig.util.getConfigSources()), process.env);
  // NODE_CONFIG_ENV picks node-config's overlays instead of NODE_ENV; either naming production counts.
  const production = ['NODE_ENV', 'NODE_CONFIG_ENV'].some((name) =>
    (nodeConfig.util.getEnv(name) ?? '')
      .split(',')
      .map((e) => e.trim())
      .includes('production'),
  );
  const { config, problems } = checkConfig(nodeConfig.util.toObject(), { production });
  const all = [...parseProblems, ...envProblems, ...problems];
  if (config === undefined || all.length > 0) throw new ConfigError(all);
  return config;
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
function checkNoSampleKey(skypay: Config['skypay']): string[] {
  const problems: string[] = [];
  skypay.partners.forEach((p, i) => {
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
function checkStatusQuery(skypay: Config['skypay']): string[] {
  const query = skypay.statusQuery;
  if (query.url === undefined) return [];
  const key = 'skypay.statusQuery.partner';
  const names = skypay.partners.map((p) => p.userName);
  if (query.partner === undefined) return [`${key}: is required when skypay.statusQuery.url is set`];
  const partner = skypay.partners.find((p) => p.userName === query.partner);
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
  // Not an error: a finance notification or skyrelay event could carry a status as an extra field.
  config.rules.forEach((rule, i) => {
    if (listReceivedTypes(rule.match, namesSystemEvents(rule)).length === 0) {
      warnings.push(
        `rules.${i}.match: no event type has the source, type, payType, status and signType it asks for; ` +
          `rule "${rule.name}" will never fire`,
      );
    }
  });
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

/** A wait for a partner that is not configured would never apply: most likely a misspelt userName. */
function checkStuckPartners(payouts: Config['payouts'], skypay: Config['skypay']): string[] {
  const names = skypay.partners.map((p) => p.userName);
  return Object.keys(payouts.stuckAfterByPartner)
    .filter((partner) => !names.includes(partner))
    .map(
      (partner) => `payouts.stuckAfterByPartner.${partner}: not a configured partner (configured: ${names.join(', ')})`,
    );
}

function checkPartners(skypay: Config['skypay']): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  skypay.partners.forEach((p, i) => {
    if (seen.has(p.userName)) problems.push(`skypay.partners.${i}.userName: "${p.userName}" is configured twice`);
    seen.add(p.userName);
  });
  return problems;
}

/**
 * The admin and metrics guards cover every path under theirs, in any
 * spelling: a callback or health path under one of them would need its token.
 */
function checkPaths(config: Pick<Config, 'skypay' | 'ui' | 'admin' | 'metrics'>): string[] {
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
 * secret (a malformed webhook secret, an SMTP URL), so only its type is said,
 * and only where the type is what is wrong: a refinement (a port out of range)
 * or a validator of our own (a mask field, a URL) already says what it wanted
 * of a value of the right type.
 */
function describeFailure(failure: {
  path: (string | number)[];
  type: string;
  refinement?: string | undefined;
  message: string;
  value: unknown;
}): string {
  const key = failure.path.join('.') || '(root)';
  if (failure.type === 'never') return `${key}: is not a known setting (check the spelling)`;
  const rule = failure.message.replace(/,? but received:? .*$/s, '').replace(/^Expected/, 'expected');
  if (failure.refinement !== undefined || !TYPE_STRUCTS.has(failure.type)) return `${key}: ${rule}`;
  return `${key}: ${rule} (got ${describeType(failure.value)})`;
}

/** superstruct's own types, whose failures mean the value has the wrong type (enums and literal list the values). */
const TYPE_STRUCTS = new Set(['array', 'boolean', 'integer', 'number', 'object', 'record', 'string', 'type', 'union']);

function describeType(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
