import { define } from 'superstruct';
import { isRecord } from '../is-record';

/**
 * A destination's breaker as operators write it: `{"failures": 10, "probeIntervalMs": 30000}`, `true` for those
 * defaults, or `false` for none. On by default for webhooks and Slack; off by default for email, whose servers
 * answer 4xx to new senders on purpose (greylisting) and which is where skyrelay's own alerts often go when the
 * others are down.
 */

export const DEFAULT_BREAKER = { failures: 10, probeIntervalMs: 30_000 } as const;

/** Below this a "probe" is a retry storm; above a day nobody would notice the receiver is back. */
const MIN_PROBE_INTERVAL_MS = 100;
const MAX_PROBE_INTERVAL_MS = 86_400_000;
const MAX_FAILURES = 10_000;

/** Why `value` is not a failure count, or undefined when it is. */
function findFailuresProblem(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= MAX_FAILURES) return undefined;
  return `Expected a whole number of failures in a row that opens the breaker, from 1 to ${MAX_FAILURES}`;
}

function findProbeIntervalProblem(value: unknown): string | undefined {
  const ok =
    typeof value === 'number' &&
    Number.isSafeInteger(value) &&
    value >= MIN_PROBE_INTERVAL_MS &&
    value <= MAX_PROBE_INTERVAL_MS;
  return ok
    ? undefined
    : `Expected a whole number of milliseconds between probes, from ${MIN_PROBE_INTERVAL_MS} to ${MAX_PROBE_INTERVAL_MS} (a day)`;
}

const CHECKS: Readonly<Record<string, (value: unknown) => string | undefined>> = {
  failures: findFailuresProblem,
  probeIntervalMs: findProbeIntervalProblem,
};

/** `{"failures": 10, "probeIntervalMs": 30000}` (either left out takes its default), `true`, or `false`. */
export const BreakerSetting = define<BreakerSetting>('breaker', (value, context) => {
  if (typeof value === 'boolean') return true;
  if (!isRecord(value)) {
    return 'Expected {"failures": 10, "probeIntervalMs": 30000} (either may be left out), true for those, or false for no breaker';
  }
  const problems: { path: (string | number)[]; message: string }[] = [];
  for (const [key, item] of Object.entries(value)) {
    const check = CHECKS[key];
    const message = check
      ? check(item)
      : `Unknown key ${JSON.stringify(key)}; expected only ${Object.keys(CHECKS).join(', ')}`;
    if (message !== undefined) problems.push({ path: [...context.path, key], message });
  }
  return problems.length === 0 ? true : problems;
});

export type BreakerSetting = boolean | { failures?: number | undefined; probeIntervalMs?: number | undefined };

export interface BreakerSettings {
  failures: number;
  probeIntervalMs: number;
}

/** The breaker a destination runs with, or undefined for none (`false`, or email without one). */
export function resolveBreaker(config: {
  type: 'slack' | 'email' | 'webhook';
  breaker?: BreakerSetting | undefined;
}): BreakerSettings | undefined {
  const setting = config.breaker ?? config.type !== 'email';
  if (setting === false) return undefined;
  if (setting === true) return { ...DEFAULT_BREAKER };
  return {
    failures: setting.failures ?? DEFAULT_BREAKER.failures,
    probeIntervalMs: setting.probeIntervalMs ?? DEFAULT_BREAKER.probeIntervalMs,
  };
}

/** Every configured destination's breaker, by name (those without one absent). */
export function resolveBreakers(
  destinations: Readonly<Record<string, Parameters<typeof resolveBreaker>[0]>>,
): Map<string, BreakerSettings> {
  const settings = new Map<string, BreakerSettings>();
  for (const [name, config] of Object.entries(destinations)) {
    const resolved = resolveBreaker(config);
    if (resolved) settings.set(name, resolved);
  }
  return settings;
}
