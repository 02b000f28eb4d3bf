import { validate } from 'superstruct';
import { createId } from '../ids';
import { isRecord } from '../is-record';
import { Match, isScalar, type MatcherValue } from '../routing/schema';
import type { NewSilence } from './types';
import { isHealthAlertType, judgeSilenceReach } from './silence-scope';

/** What makes a silence valid that its author can fix: every problem, each naming its field. */
export class SilenceInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'SilenceInputError';
  }
}

/** Bounds on what one silence keeps: an authenticated operator's text, but still text nobody needs more of. */
export const MAX_MATCHERS = 32;
export const MAX_AUTHOR_CHARS = 200;
export const MAX_COMMENT_CHARS = 2_000;
const FIELDS = ['matchers', 'startsAt', 'endsAt', 'createdBy', 'comment', 'destinations', 'force'];

/**
 * Who is making or ending a silence, as the credential says, not as typed: the name recorded when none is given, and
 * beside the one given.
 */
export interface SilenceActor {
  /** The default name: the OS user for the CLI; the credential's description for the admin API and the dashboard. */
  name: string;
  /** How they were authenticated: "admin token 3f9a2c1b", "dashboard session 1a2b3c4d", "cli as OS user alice". */
  via: string;
  /** The request's remote address; null for the CLI. */
  from: string | null;
}

/** What a silence is checked against besides its own body. */
export interface SilenceContext {
  /** The configured destination names a silence may name. */
  destinations: readonly string[];
  now: number;
  /** silences.maxDurationMs. */
  maxDurationMs: number;
  actor: SilenceActor;
}
/** An explicit zone (Z or ±hh:mm): "10:00" alone would mean the server's zone, which the author cannot see. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * A silence from an admin API body, the CLI's flags or the dashboard's form (all in the same shape), checked as a
 * rule's match is at start (field names included), then for what only a silence must not do: match every event of a
 * kind without `"force": true`, name skyrelay's health alerts, or last longer than silences.maxDurationMs. Throws
 * SilenceInputError listing every problem.
 */
export function parseSilence(body: unknown, context: SilenceContext): NewSilence {
  const { now } = context;
  if (!isRecord(body)) throw new SilenceInputError(['body: expected a JSON object']);
  const problems: string[] = [];
  const unknown = Object.keys(body).filter((k) => !FIELDS.includes(k));
  if (unknown.length > 0) {
    problems.push(`${unknown.map((k) => JSON.stringify(k)).join(', ')}: unknown field (expected ${FIELDS.join(', ')})`);
  }
  const matchers = body['matchers'];
  if (!isRecord(matchers) || Object.keys(matchers).length === 0) {
    problems.push('matchers: required, an object like a rule\'s "match" with at least one field');
  } else if (Object.keys(matchers).length > MAX_MATCHERS) {
    problems.push(`matchers: at most ${MAX_MATCHERS} fields`);
  } else {
    const [failure] = validate(matchers, Match);
    for (const f of failure?.failures() ?? []) {
      problems.push(f.path.length === 0 ? `matchers: ${f.message}` : `matchers.${f.path.join('.')}: ${f.message}`);
    }
    if (!failure) problems.push(...findReachProblems(matchers as Record<string, MatcherValue>, body['force']));
  }
  if (body['force'] !== undefined && typeof body['force'] !== 'boolean') problems.push('force: expected true or false');
  const startsAtMs = body['startsAt'] === undefined ? now : parseTime(body['startsAt'], 'startsAt', problems);
  const endsAtMs = parseTime(body['endsAt'], 'endsAt', problems);
  if (startsAtMs !== undefined && endsAtMs !== undefined) {
    if (endsAtMs <= startsAtMs) problems.push('endsAt: must be after startsAt');
    else if (endsAtMs <= now) problems.push('endsAt: must be in the future');
    else if (endsAtMs - startsAtMs > context.maxDurationMs) {
      problems.push(
        `endsAt: at most ${describeDuration(context.maxDurationMs)} after startsAt (silences.maxDurationMs); ` +
          'make a new silence if the outage outlasts it',
      );
    }
  }
  const createdBy =
    body['createdBy'] === undefined
      ? context.actor.name.slice(0, MAX_AUTHOR_CHARS)
      : parseText(body['createdBy'], 'createdBy', MAX_AUTHOR_CHARS, problems);
  const comment = parseText(body['comment'], 'comment', MAX_COMMENT_CHARS, problems);
  const destinations = parseDestinations(body['destinations'], context.destinations, problems);
  if (problems.length > 0) throw new SilenceInputError(problems);
  return {
    id: createId('sil'),
    matchers: matchers as Record<string, unknown>,
    destinations: destinations ?? null,
    startsAtMs: startsAtMs as number,
    endsAtMs: endsAtMs as number,
    createdBy: createdBy as string,
    createdAtMs: now,
    comment: comment as string,
    createdVia: context.actor.via,
    createdFrom: context.actor.from,
  };
}

/**
 * `{"payType": {"regex": ""}}` or a typo'd field used to silence everything: a silence that matches every event of
 * a kind whatever its content needs `"force": true`; one that names skyrelay's health alerts is refused, force or
 * not (they are never silenced).
 */
function findReachProblems(matchers: Record<string, MatcherValue>, force: unknown): string[] {
  const problems: string[] = [];
  const type = matchers['type'];
  const named = type === undefined ? [] : equalityValues(type).filter((v) => isHealthAlertType(String(v)));
  const reach = judgeSilenceReach(matchers);
  if (named.length > 0 || reach.onlyHealthAlerts) {
    const what = named.length > 0 ? named.map((v) => JSON.stringify(v)).join(', ') : 'these matchers';
    problems.push(
      `matchers.type: ${what} names skyrelay's own health alerts (database.lost, destination.*), which are never ` +
        'silenced: they say that alerts may not be reaching anyone',
    );
  } else if (reach.matchesEvery.length > 0 && force !== true) {
    problems.push(
      `matchers: would match ${reach.matchesEvery.join(' and ')}, whatever it holds; narrow them ` +
        '(a partner, a status, a failDescription…), or send "force": true if that is meant',
    );
  }
  return problems;
}

/** The values a matcher compares for equality (a scalar, a list), outside any `not`. */
function equalityValues(matcher: MatcherValue): unknown[] {
  if (isScalar(matcher)) return [matcher];
  return Array.isArray(matcher) ? matcher : [];
}

/** `7 days`, `36 hours`, `90 minutes`: a bound as its author would write it. */
export function describeDuration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1_000, 'second'],
  ];
  for (const [size, unit] of units) {
    if (ms % size === 0) return `${ms / size} ${unit}${ms === size ? '' : 's'}`;
  }
  return `${ms} ms`;
}

function parseTime(value: unknown, field: string, problems: string[]): number | undefined {
  const at = typeof value === 'string' && ISO_WITH_ZONE.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) {
    problems.push(`${field}: ${value === undefined ? 'required, ' : ''}expected an ISO-8601 time with a zone`);
    return undefined;
  }
  return at;
}

function parseText(value: unknown, field: string, max: number, problems: string[]): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push(`${field}: required, a non-empty string`);
    return undefined;
  }
  if (value.length > max) {
    problems.push(`${field}: at most ${max} characters`);
    return undefined;
  }
  return value;
}

function parseDestinations(value: unknown, known: readonly string[], problems: string[]): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every((d) => typeof d === 'string')) {
    problems.push('destinations: expected a non-empty list of destination names');
    return undefined;
  }
  const names = [...new Set(value)];
  const unknown = names.filter((d) => !known.includes(d));
  if (unknown.length > 0) {
    const configured = known.length === 0 ? 'none' : known.join(', ');
    problems.push(
      `destinations: unknown destination ${unknown.map((d) => JSON.stringify(d)).join(', ')} (configured: ${configured})`,
    );
    return undefined;
  }
  return names;
}

/**
 * `--match payType=failure` as the CLI takes it: the value is text, or JSON when it starts with `{` or `[`
 * (`--match 'failDescription={"contains":"timeout"}'`); the same field given twice means any of the values.
 */
export function parseMatchFlags(flags: readonly string[]): Record<string, unknown> {
  const matchers: Record<string, unknown> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new SilenceInputError([`--match ${flag}: expected FIELD=VALUE, e.g. payType=failure`]);
    const field = flag.slice(0, eq);
    const text = flag.slice(eq + 1);
    let value: unknown = text;
    if (/^[[{]/.test(text)) {
      try {
        value = JSON.parse(text);
      } catch {
        throw new SilenceInputError([`--match ${field}: a value starting with { or [ must be JSON`]);
      }
    }
    const before = matchers[field];
    if (before === undefined) matchers[field] = value;
    else if (typeof value === 'string' && (typeof before === 'string' || Array.isArray(before)))
      matchers[field] = [...(Array.isArray(before) ? before : [before]), value];
    else throw new SilenceInputError([`--match ${field}: given twice; only plain values combine into "any of"`]);
  }
  return matchers;
}
