import { PAY_STATUSES, ROUTED_SYSTEM_TYPES, publicTypeOf, type RelayEvent, type SignType } from '../event';
import { compileMatcher } from './matcher';
import { isScalar, type MatcherValue } from './matcher-value';

/**
 * The kinds of event a rule can receive and the names they go by. A rule's `type` takes an event's own type
 * (`payout`, `finance`, `payout.anomaly`) or its name in webhook bodies (`skypay.payout.paid`,
 * `skypay.finance.recharge`, `skyrelay.payout.anomaly`), the one a consumer sees; a value no event has is refused
 * when the configuration loads, since such a rule would silently never fire.
 */

/** What a rule's `type` compares: the event's own type and its name in webhook bodies. */
export function readTypeNames(event: RelayEvent): string[] {
  return [event.type, publicTypeOf(event)];
}

const SIGN_TYPES: readonly SignType[] = ['recharge', 'reduce'];

export const EVENT_SOURCES = ['skypay', 'skyrelay'] as const;

/** One kind of event: its names and the identity fields it carries whatever its content. */
interface EventKind {
  /** As webhook bodies name it. */
  name: string;
  source: (typeof EVENT_SOURCES)[number];
  /** The event's own `type`. */
  type: string;
  /** payType, status and signType as such an event has them; a field left out depends on the event (skyrelay's data). */
  fields: Readonly<Record<string, unknown>>;
}

/** Every kind of event the rules route, in the order `config check` lists them. */
export const EVENT_KINDS: readonly EventKind[] = [
  ...Object.entries(PAY_STATUSES).map(([payType, status]) => ({
    name: `skypay.payout.${status}`,
    source: 'skypay' as const,
    type: 'payout',
    fields: { payType: Number(payType), status, signType: undefined },
  })),
  ...SIGN_TYPES.map((signType) => ({
    name: `skypay.finance.${signType}`,
    source: 'skypay' as const,
    type: 'finance',
    fields: { signType, payType: undefined, status: undefined },
  })),
  ...ROUTED_SYSTEM_TYPES.map((type) => ({ name: `skyrelay.${type}`, source: 'skyrelay' as const, type, fields: {} })),
];

const TYPE_NAMES: readonly string[] = [...new Set(EVENT_KINDS.flatMap((k) => [k.type, k.name]))];
const KNOWN_SOURCES: readonly string[] = EVENT_SOURCES;
const IDENTITY_FIELDS = ['source', 'type', 'payType', 'status', 'signType'] as const;

/**
 * The kinds of event (by webhook name) a match can receive, judged by its source, type, payType, status and
 * signType matchers: other fields depend on each event's content and are not judged. skyrelay's own events are
 * considered only when `offeredSystemEvents` (the rule names source or type: namesSystemEvents in match.ts).
 */
export function listReceivedTypes(
  match: Readonly<Record<string, MatcherValue>> | undefined,
  offeredSystemEvents: boolean,
): string[] {
  const tests = IDENTITY_FIELDS.flatMap((field) => {
    const matcher = match !== undefined && Object.hasOwn(match, field) ? match[field] : undefined;
    return matcher === undefined ? [] : [[field, compileMatcher(field, matcher)] as const];
  });
  return EVENT_KINDS.filter(
    (kind) =>
      (kind.source === 'skypay' || offeredSystemEvents) &&
      tests.every(([field, test]) => {
        if (field === 'source') return test(kind.source);
        if (field === 'type') return test([kind.type, kind.name]);
        return Object.hasOwn(kind.fields, field) ? test(kind.fields[field]) : true;
      }),
  ).map((kind) => kind.name);
}

/**
 * A `source` or `type` value that no event has, and a source and type no event has together: each would make the
 * rule (or silence) never match. Every value in a list and under `not` is checked, as are prefix, contains and regex
 * (each must fit at least one name).
 */
export function findIdentityProblems(match: Readonly<Record<string, MatcherValue>>): string[] {
  const problems: string[] = [];
  for (const field of ['source', 'type'] as const) {
    const matcher = Object.hasOwn(match, field) ? match[field] : undefined;
    if (matcher === undefined) continue;
    const known = field === 'source' ? KNOWN_SOURCES : TYPE_NAMES;
    for (const part of listParts(matcher)) {
      const test = compileMatcher(field, part);
      if (known.some((name) => test(field === 'type' ? [name] : name))) continue;
      const what = isScalar(part)
        ? `no event has ${field} ${JSON.stringify(part)}`
        : `${JSON.stringify(part)} fits no event ${field}`;
      problems.push(`${field}: ${what} (${describeKnown(field)})`);
    }
  }
  if (problems.length > 0 || !(Object.hasOwn(match, 'source') && Object.hasOwn(match, 'type'))) return problems;
  const both = { source: match['source'] as MatcherValue, type: match['type'] as MatcherValue };
  if (listReceivedTypes(both, true).length === 0) {
    const bySource = EVENT_SOURCES.map(
      (s) => `${s}: ${[...new Set(EVENT_KINDS.filter((k) => k.source === s).map((k) => k.type))].join(', ')}`,
    );
    problems.push(
      `source, type: no event has both this source and this type (types by source: ${bySource.join('; ')})`,
    );
  }
  return problems;
}

/** The values and operators a matcher tests, each on its own: list items, and what a `not` negates. */
function listParts(matcher: MatcherValue): MatcherValue[] {
  if (isScalar(matcher)) return [matcher];
  if (Array.isArray(matcher)) return matcher;
  if ('not' in matcher) return listParts(matcher.not);
  return 'exists' in matcher ? [] : [matcher];
}

function describeKnown(field: 'source' | 'type'): string {
  if (field === 'source') return `expected ${EVENT_SOURCES.join(' or ')}`;
  return (
    `expected payout, finance, one of skyrelay's ${ROUTED_SYSTEM_TYPES.join(', ')}, ` +
    'or a name from webhook bodies: skypay.payout.<status>, skypay.finance.recharge or .reduce, skyrelay.<type>'
  );
}
