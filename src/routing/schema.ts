import { array, define, nonempty, object, optional, record, refine, string, type Infer } from 'superstruct';
import { PAYOUT_CONFIRMATIONS, PAYOUT_STATES, TRANSITION_KINDS } from '../event';
import { findIdentityProblems } from './event-types';
import { CONFIRMATION_FIELD, LIFECYCLE_FIELDS, findFieldNameProblem } from './fields';
import { findPatternProblem } from './pattern';
import { STATUS_FIELDS, describeStatusProblem, resolvePayType } from './pay-type';
import { OPERATORS, isScalar, type MatcherValue, type Scalar } from './matcher-value';

// In a module of their own so the matcher (matcher.ts) can use them while this schema uses the matcher.
export {
  OPERATORS,
  isScalar,
  type MatcherOperator,
  type MatcherValue,
  type OperatorName,
  type Scalar,
} from './matcher-value';

/**
 * A hand-written validator rather than a superstruct union: a union can only
 * say "expected one of several shapes", while an operator typo deserves a
 * message naming the bad key, regex or nesting level.
 */
export const Matcher = define<MatcherValue>('Matcher', (value) => findMatcherProblem(value, '') ?? true);

function findMatcherProblem(value: unknown, where: string): string | undefined {
  const at = where === '' ? '' : `${where}: `;
  if (isScalar(value)) {
    return typeof value === 'number' && !Number.isFinite(value) ? `${at}expected a finite number` : undefined;
  }
  if (value === null) {
    return `${at}null is not a matcher value; use {"exists": false} to match a missing or null field`;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return `${at}expected a non-empty list of values (an empty list never matches)`;
    const bad = value.findIndex((item) => !isScalar(item));
    return bad === -1 ? undefined : `${at}list item ${bad} must be a string, number or boolean`;
  }
  if (typeof value !== 'object') {
    return `${at}expected a string, number, boolean, list of those, or an operator object`;
  }
  return findOperatorProblem(value as Record<string, unknown>, where, at);
}

function findOperatorProblem(value: Record<string, unknown>, where: string, at: string): string | undefined {
  const keys = Object.keys(value);
  const expected = `expected one of ${OPERATORS.join(', ')}`;
  if (keys.length !== 1) {
    const got = keys.length === 0 ? 'none' : keys.join(', ');
    return `${at}an operator object needs exactly one key (${expected}), got ${got}`;
  }
  const key = keys[0] as string;
  const operand = value[key];
  switch (key) {
    case 'prefix':
    case 'contains':
      return typeof operand === 'string' ? undefined : `${at}${key} expects a string`;
    case 'regex':
      return findRegexProblem(operand, at);
    case 'exists':
      return typeof operand === 'boolean' ? undefined : `${at}exists expects true or false`;
    case 'not':
      return findMatcherProblem(operand, where === '' ? 'not' : `${where}.not`);
    default:
      return `${at}unknown operator "${key}" (${expected})`;
  }
}

function findRegexProblem(source: unknown, at: string): string | undefined {
  if (typeof source !== 'string') return `${at}regex expects a string`;
  const problem = findPatternProblem(source);
  return problem === undefined ? undefined : `${at}invalid regex ${JSON.stringify(source)}: ${problem}`;
}

/** payType/status equality values must name a real status, or the rule silently never fires. */
function findStatusProblems(match: Record<string, MatcherValue>): string[] {
  const problems: string[] = [];
  for (const [field, matcher] of Object.entries(match)) {
    if (!STATUS_FIELDS.has(field)) continue;
    for (const value of listEqualityValues(matcher)) {
      if (resolvePayType(value) === undefined) problems.push(describeStatusProblem(field, value));
    }
  }
  return problems;
}

function listEqualityValues(matcher: MatcherValue): Scalar[] {
  if (isScalar(matcher)) return [matcher];
  if (Array.isArray(matcher)) return matcher;
  return 'not' in matcher ? listEqualityValues(matcher.not) : [];
}

/** transition.kind and the payout states must name a real one, for the same reason. */
function findLifecycleProblems(match: Record<string, MatcherValue>): string[] {
  const problems: string[] = [];
  for (const [field, matcher] of Object.entries(match)) {
    if (!LIFECYCLE_FIELDS.has(field)) continue;
    const known: readonly string[] =
      field === 'transition.kind'
        ? TRANSITION_KINDS
        : field === CONFIRMATION_FIELD
          ? PAYOUT_CONFIRMATIONS
          : PAYOUT_STATES;
    for (const value of listEqualityValues(matcher)) {
      if (typeof value !== 'string' || !known.includes(value)) {
        problems.push(`${field}: unknown value ${JSON.stringify(value)} (expected one of ${known.join(', ')})`);
      }
    }
  }
  return problems;
}

/** Every field a match names must be one an event can have (see findFieldNameProblem). */
function findFieldNameProblems(match: Record<string, MatcherValue>): string[] {
  return Object.keys(match).flatMap((field) => findFieldNameProblem(field) ?? []);
}

export const Match = refine(record(nonempty(string()), Matcher), 'StatusNames', (match) => {
  const problems = [
    ...findFieldNameProblems(match),
    ...findStatusProblems(match),
    ...findLifecycleProblems(match),
    ...findIdentityProblems(match),
  ];
  return problems.length === 0 ? true : problems.map((message) => ({ message }));
});

export const RuleConfig = object({
  name: nonempty(string()),
  match: optional(Match),
  to: nonempty(array(nonempty(string()))),
});

export const RulesConfig = array(RuleConfig);

export type MatchConfig = Infer<typeof Match>;
export type RuleConfig = Infer<typeof RuleConfig>;
export type RulesConfig = Infer<typeof RulesConfig>;

/**
 * Cross-references a struct cannot see: destinations live in another config
 * section, and uniqueness spans the whole list. Returns problems for the
 * config loader to report, empty when all is well. Takes what it reads of each
 * rule, so a rule whose match is invalid is still checked (a name it lacks is
 * not compared).
 */
export function checkRules(
  rules: readonly { name?: string | undefined; to: readonly string[] }[],
  destinationNames: readonly string[],
): string[] {
  const problems: string[] = [];
  const known = new Set(destinationNames);
  const configured = destinationNames.length === 0 ? 'none' : destinationNames.join(', ');
  const firstIndexByName = new Map<string, number>();
  rules.forEach((rule, index) => {
    const first = rule.name === undefined ? undefined : firstIndexByName.get(rule.name);
    if (rule.name !== undefined && first === undefined) firstIndexByName.set(rule.name, index);
    else if (rule.name !== undefined)
      problems.push(`rules.${index}.name: duplicate rule name "${rule.name}" (also rules.${first})`);
    for (const destination of rule.to) {
      if (!known.has(destination)) {
        problems.push(`rules.${index}.to: unknown destination "${destination}" (configured: ${configured})`);
      }
    }
  });
  return problems;
}
