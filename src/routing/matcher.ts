import { statusOf } from '../event';
import { STATUS_FIELDS, resolvePayType } from './pay-type';
import { isScalar, type MatcherValue, type Scalar } from './matcher-value';
import { compilePattern } from './pattern';

export type ValueTest = (value: unknown) => boolean;

/** How a field's value is compared: payType/status by pay type, everything else loosely. */
interface Comparison {
  compileEquals(expected: Scalar): ValueTest;
  /** The strings prefix/regex/contains look at; only called for present values. */
  textsOf(value: unknown): string[];
}

const NUMERIC = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

function isNumeric(text: string): boolean {
  return NUMERIC.test(text.trim());
}

function stringify(value: unknown): string {
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * SkyPay posts form fields, so extras arrive as strings: "100" must equal a
 * configured 100. Two strings still compare exactly, so "00123" stays
 * distinct from "123".
 */
export function equalsLoosely(actual: unknown, expected: Scalar): boolean {
  if (actual === null || actual === undefined) return false;
  if (typeof actual === typeof expected) return actual === expected;
  if (typeof actual === 'number' && typeof expected === 'string') {
    return isNumeric(expected) && actual === Number(expected);
  }
  if (typeof actual === 'string' && typeof expected === 'number') {
    return isNumeric(actual) && Number(actual) === expected;
  }
  if (typeof actual === 'boolean' || typeof expected === 'boolean') {
    return isScalar(actual) && String(actual) === String(expected);
  }
  return false;
}

const plainComparison: Comparison = {
  compileEquals: (expected) => (value) => equalsLoosely(value, expected),
  textsOf: (value) => [stringify(value)],
};

/**
 * Pattern operators see both spellings of a status so that
 * {"prefix": "amended"} and {"regex": "^[46]$"} both work; names hold no
 * digits and numbers no letters, so the two never blur.
 */
const statusComparison: Comparison = {
  compileEquals: (expected) => {
    const payType = resolvePayType(expected);
    return (value) => payType !== undefined && resolvePayType(value) === payType;
  },
  textsOf: (value) => {
    const payType = resolvePayType(value);
    return payType === undefined ? [stringify(value)] : [statusOf(payType), String(payType)];
  },
};

/**
 * `type` is read as every name the event goes by (readTypeNames in event-types.ts): its own type and its name in
 * webhook bodies. A value equals when it equals one of them; pattern operators see each.
 */
const namesComparison: Comparison = {
  compileEquals: (expected) => (value) => namesOf(value).some((name) => equalsLoosely(name, expected)),
  textsOf: (value) => namesOf(value).map(stringify),
};

function namesOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function isPresent(value: unknown): boolean {
  return value !== null && value !== undefined;
}

/** Compiles once at start-up: regexes are built here, never per event. */
export function compileMatcher(field: string, matcher: MatcherValue): ValueTest {
  const comparison = field === 'type' ? namesComparison : STATUS_FIELDS.has(field) ? statusComparison : plainComparison;
  return compileNode(matcher, comparison);
}

function compileNode(matcher: MatcherValue, comparison: Comparison): ValueTest {
  if (isScalar(matcher)) return comparison.compileEquals(matcher);
  if (Array.isArray(matcher)) {
    const tests = matcher.map((expected) => comparison.compileEquals(expected));
    return (value) => tests.some((test) => test(value));
  }
  if ('not' in matcher) {
    const inner = compileNode(matcher.not, comparison);
    return (value) => !inner(value);
  }
  if ('exists' in matcher) {
    const wanted = matcher.exists;
    return (value) => isPresent(value) === wanted;
  }
  const testText = compileTextTest(matcher);
  return (value) => isPresent(value) && comparison.textsOf(value).some(testText);
}

function compileTextTest(
  matcher: { prefix: string } | { regex: string } | { contains: string },
): (text: string) => boolean {
  if ('prefix' in matcher) {
    const prefix = matcher.prefix;
    return (text) => text.startsWith(prefix);
  }
  if ('contains' in matcher) {
    const needle = matcher.contains;
    return (text) => text.includes(needle);
  }
  return compilePattern(matcher.regex);
}
