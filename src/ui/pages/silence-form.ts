import {
  MAX_MATCHERS,
  SilenceInputError,
  parseMatchFlags,
  parseSilence,
  type SilenceContext,
} from '../../alerts/silence-input';
import { FilterError } from '../../operations/errors';
import { parseDuration } from '../../operations/filters';
import type { NewSilence } from '../../operations/views';

/** Matcher rows the form offers; more conditions go in the JSON box. */
export const MATCHER_ROWS = 4;
export type Form = Record<string, unknown>;

/** What the create form holds, as typed: shown again with the problems when it is refused. */
export interface SilenceForm {
  fields: string[];
  values: string[];
  json: string;
  startsAt: string;
  endsAt: string;
  duration: string;
  createdBy: string;
  comment: string;
  destinations: string[];
  /** "Allow matching every event of a kind" ticked. */
  force: boolean;
}

export const EMPTY_SILENCE_FORM: SilenceForm = {
  fields: [],
  values: [],
  json: '',
  startsAt: '',
  endsAt: '',
  duration: '',
  createdBy: '',
  comment: '',
  destinations: [],
  force: false,
};

/** A form field that may be given several times (qs makes an array, or an object past 20 items). */
function list(form: Form, name: string): string[] {
  const v = form[name];
  const items = Array.isArray(v)
    ? v
    : v !== null && typeof v === 'object'
      ? Object.values(v)
      : v === undefined
        ? []
        : [v];
  return items.filter((x): x is string => typeof x === 'string');
}

function text(form: Form, name: string): string {
  const items = list(form, name);
  return items[items.length - 1] ?? '';
}

export function readSilenceForm(form: Form): SilenceForm {
  return {
    fields: list(form, 'matchField').slice(0, MAX_MATCHERS),
    values: list(form, 'matchValue').slice(0, MAX_MATCHERS),
    json: text(form, 'matchers'),
    startsAt: text(form, 'startsAt').trim(),
    endsAt: text(form, 'endsAt').trim(),
    duration: text(form, 'duration').trim(),
    createdBy: text(form, 'createdBy'),
    comment: text(form, 'comment'),
    destinations: list(form, 'destination'),
    force: text(form, 'force') === 'on',
  };
}

/**
 * The form as the admin API's body, then the admin API's own validation (parseSilence) and the CLI's reading of
 * `field=value` conditions (parseMatchFlags): a silence made here is exactly one POST /admin/silences would make.
 * Throws SilenceInputError listing every problem, each naming the field as the form labels it.
 */
export function toNewSilence(form: SilenceForm, context: SilenceContext): NewSilence {
  const { now } = context;
  const problems: string[] = [];
  const rows: string[] = [];
  for (let i = 0; i < Math.max(form.fields.length, form.values.length); i++) {
    const field = form.fields[i]?.trim() ?? '';
    const value = form.values[i]?.trim() ?? '';
    if (field === '' && value === '') continue;
    if (field === '' || value === '') problems.push(`matcher row ${i + 1}: give both a field and a value`);
    else rows.push(`${field}=${value}`);
  }
  let matchers: unknown;
  if (form.json.trim() !== '') {
    if (rows.length > 0) problems.push('matchers: give them as field/value rows or as JSON, not both');
    try {
      matchers = JSON.parse(form.json);
    } catch {
      problems.push('matchers (JSON): not valid JSON, e.g. {"payType": "failure", "partner": "Acme@skypay"}');
    }
  } else if (rows.length > 0) {
    try {
      matchers = parseMatchFlags(rows);
    } catch (err) {
      if (!(err instanceof SilenceInputError)) throw err;
      problems.push(...err.problems.map((p) => p.replace(/^--match /, 'matcher ')));
    }
  }
  let endsAt: string | undefined = form.endsAt || undefined;
  if (form.duration !== '') {
    if (form.endsAt !== '') problems.push('ends at / for: give when it ends or how long it lasts, not both');
    try {
      const startMs = form.startsAt === '' ? now : Date.parse(form.startsAt);
      endsAt = new Date((Number.isNaN(startMs) ? now : startMs) + parseDuration(form.duration, 'for')).toISOString();
    } catch (err) {
      if (!(err instanceof FilterError)) throw err;
      problems.push(err.message);
    }
  } else if (form.endsAt === '') {
    problems.push('ends at / for: required, when the silence ends (ISO-8601 with a zone) or how long it lasts (2h)');
  }
  const body = {
    matchers,
    ...(form.startsAt !== '' && { startsAt: form.startsAt }),
    endsAt,
    // Left empty: the session names its maker, as the admin API's token does.
    ...(form.createdBy.trim() !== '' && { createdBy: form.createdBy }),
    comment: form.comment,
    ...(form.destinations.length > 0 && { destinations: form.destinations }),
    ...(form.force && { force: true }),
  };
  try {
    const silence = parseSilence(body, context);
    if (problems.length === 0) return silence;
  } catch (err) {
    if (!(err instanceof SilenceInputError)) throw err;
    // What was already said about the matchers or the end in the form's terms is not said again in the API's.
    const said = (field: string): boolean => problems.some((p) => p.startsWith(field));
    for (const p of err.problems) {
      if (p.startsWith('matchers') && said('matcher')) continue;
      if (p.startsWith('endsAt:') && said('ends at / for') && endsAt === undefined) continue;
      problems.push(p);
    }
  }
  throw new SilenceInputError(problems);
}
