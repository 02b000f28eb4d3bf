import { StructError, create } from 'superstruct';
import { isWithin } from '../http/path-guard';
import { checkRules } from '../routing/schema';
import { ConfigStruct, type Config } from './schema';

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
export function validateConfig(raw: unknown): Config {
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
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Reads node-config (config/*.json, NODE_ENV overlays, environment variables, NODE_CONFIG) and validates it. */
export function loadConfig(): Config {
  // Required lazily: node-config reads the environment when first loaded, and only the entry points should.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeConfig = require('config') as { util: { toObject: (c?: unknown) => unknown } };
  return validateConfig(nodeConfig.util.toObject());
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
  const fixed = [['skypay.path', config.skypay.path], ['/healthz', '/healthz'], ['/readyz', '/readyz']] as const;
  const underAdmin = 'must not be under /admin (the admin API\'s path)';
  if (isWithin(config.skypay.path, '/admin')) problems.push(`skypay.path: ${underAdmin}`);
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
function describeFailure(failure: { path: (string | number)[]; type: string; message: string; value: unknown }): string {
  const key = failure.path.join('.') || '(root)';
  if (failure.type === 'never') return `${key}: is not a known setting (check the spelling)`;
  const rule = failure.message.replace(/,? but received:? .*$/s, '').replace(/^Expected/, 'expected');
  const got = failure.value === undefined ? 'nothing' : Array.isArray(failure.value) ? 'a list' : `a ${typeof failure.value}`;
  return `${key}: ${rule} (got ${got})`;
}
