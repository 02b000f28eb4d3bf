import { validate } from 'superstruct';
import { createId } from '../ids';
import { isRecord } from '../is-record';
import { Match } from '../routing/schema';
import type { NewSilence } from '../store/types';

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
const FIELDS = ['matchers', 'startsAt', 'endsAt', 'createdBy', 'comment', 'destinations'];
/** An explicit zone (Z or ±hh:mm): "10:00" alone would mean the server's zone, which the author cannot see. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * A silence from an admin API body or the CLI's flags (already in the same shape), checked against the configured
 * destination names. Throws SilenceInputError listing every problem.
 */
export function parseSilence(body: unknown, destinationNames: readonly string[], now: number): NewSilence {
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
  }
  const startsAtMs = body['startsAt'] === undefined ? now : parseTime(body['startsAt'], 'startsAt', problems);
  const endsAtMs = parseTime(body['endsAt'], 'endsAt', problems);
  if (startsAtMs !== undefined && endsAtMs !== undefined) {
    if (endsAtMs <= startsAtMs) problems.push('endsAt: must be after startsAt');
    else if (endsAtMs <= now) problems.push('endsAt: must be in the future');
  }
  const createdBy = parseText(body['createdBy'], 'createdBy', MAX_AUTHOR_CHARS, problems);
  const comment = parseText(body['comment'], 'comment', MAX_COMMENT_CHARS, problems);
  const destinations = parseDestinations(body['destinations'], destinationNames, problems);
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
  };
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
