import { PAY_STATUSES, type PayType, type RelayEvent } from '../event';
import { DEFAULT_GROUP, type DestinationsConfig } from '../destinations/schema';
import { compileFieldReader, type FieldReader } from './fields';
import type { Plan } from './plan';

/** A grouping destination's settings, defaults filled in. */
export interface Grouping {
  by: readonly string[];
  waitMs: number;
  intervalMs: number;
}

/** Slack and email destinations with a `group` setting; webhooks are never grouped (machines want every event). */
export function resolveGroupings(destinations: DestinationsConfig): Map<string, Grouping> {
  const groupings = new Map<string, Grouping>();
  for (const [name, d] of Object.entries(destinations)) {
    if (d.type === 'webhook' || d.group === undefined) continue;
    groupings.set(name, {
      by: d.group.by ?? DEFAULT_GROUP.by,
      waitMs: d.group.waitMs ?? DEFAULT_GROUP.waitMs,
      intervalMs: d.group.intervalMs ?? DEFAULT_GROUP.intervalMs,
    });
  }
  return groupings;
}

/** A value as the group key keeps it: payType by its status name, so a key reads `{"payType":"failure",...}`. */
function keyValue(field: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (field === 'payType' && typeof value === 'number' && Object.hasOwn(PAY_STATUSES, value)) {
    return PAY_STATUSES[value as PayType];
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The group an event joins: its values of the `by` fields, as a JSON object in `by` order (self-describing). */
export function compileGroupKey(by: readonly string[]): (event: RelayEvent) => string {
  const readers: [string, FieldReader][] = by.map((field) => [field, compileFieldReader(field)]);
  return (event) =>
    JSON.stringify(Object.fromEntries(readers.map(([field, read]) => [field, keyValue(field, read(event))])));
}

/** The `by` values back from a key; an unreadable key (never written by this code) reads as no values. */
export function readGroupKey(key: string): Record<string, string | null> {
  try {
    const parsed: unknown = JSON.parse(key);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : v === null ? null : JSON.stringify(v)]),
    );
  } catch {
    return {};
  }
}

/**
 * Wraps the planner: a payout routed to a grouping destination joins its group (groupKey) instead of getting a
 * delivery of its own. skyrelay's own events are not grouped: they are few (rejection alerts are already
 * rate-limited) and each is about skyrelay itself, which a reader must not have to find inside a list.
 */
export function withGrouping(plan: Plan, groupings: ReadonlyMap<string, Grouping>): Plan {
  if (groupings.size === 0) return plan;
  const keys = new Map([...groupings].map(([name, g]) => [name, compileGroupKey(g.by)]));
  return (event) => {
    const planned = plan(event);
    // Only payout statuses are grouped: skyrelay's own alerts and finance notifications go one per message.
    if (event.source !== 'skypay' || event.type !== 'payout') return planned;
    return planned.map((d) => {
      const key = keys.get(d.destination);
      return key ? { ...d, groupKey: key(event) } : d;
    });
  };
}
