import { FilterError, parseDuration } from '../../admin/filters';
import {
  MAX_MATCHERS,
  SilenceInputError,
  parseMatchFlags,
  parseSilence,
  type SilenceContext,
} from '../../alerts/silence-input';
import { silenceState } from '../../alerts/silence-match';
import type { SilenceStore } from '../../store/store';
import type { NewSilence, SilenceView } from '../../alerts/types';
import { html, query, type Html } from '../html';
import { csrfField, errorBox, orDash, showTime, statePill, type Page } from '../layout';
import { ID_PATTERN } from './events';

const PAGE_SIZE = 50;
/** Matcher rows the form offers; more conditions go in the JSON box. */
export const MATCHER_ROWS = 4;
type Query = Record<string, string | undefined>;
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

/** How the maker was authenticated and from where: the audit's own words, beside the name they typed. */
function describeVia(via: string, from: string | null): string {
  return from === null ? `via ${via}` : `via ${via} from ${from}`;
}

function describeMatchers(matchers: Record<string, unknown>): string {
  return Object.entries(matchers)
    .map(([field, value]) => `${field}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}

/** The notice after a redirect (?created= or ?expired=): an id only, so nothing else can be injected. */
function notice(q: Query): Html {
  const created = q['created'];
  const expired = q['expired'];
  if (created !== undefined && ID_PATTERN.test(created)) {
    return html`<p class="notice" role="status">
      Silence <a href="#silence-${created}">${created}</a> created. This process applies it at once, the others within
      silences.refreshIntervalMs.
    </p>`;
  }
  if (expired !== undefined && ID_PATTERN.test(expired)) {
    return html`<p class="notice" role="status">
      Silence <a href="#silence-${expired}">${expired}</a> expired: matching events are sent again from now on (nothing
      held back is sent afterwards).
    </p>`;
  }
  return html``;
}

export interface SilencesPageInput {
  store: SilenceStore;
  destinations: readonly string[];
  q: Query;
  csrf: string;
  now: number;
  /** The form as typed and why it was refused, after a failed create. */
  form?: SilenceForm;
  problems?: readonly string[];
  /** A failed expiry's message. */
  problem?: string;
  status?: number;
}

export async function renderSilences(input: SilencesPageInput): Promise<Page> {
  const { q, csrf, now } = input;
  const cursor = q['cursor']?.trim() || undefined;
  let listProblem: Html = html``;
  let rows: SilenceView[] = [];
  if (cursor !== undefined && !ID_PATTERN.test(cursor)) listProblem = errorBox('cursor: not a silence id');
  else rows = await input.store.listSilences({ before: cursor, limit: PAGE_SIZE + 1 });
  const items = rows.slice(0, PAGE_SIZE);
  const last = items[items.length - 1];
  const next = rows.length > PAGE_SIZE && last ? `/ui/silences${query({ cursor: last.id })}` : undefined;
  const form = input.form ?? EMPTY_SILENCE_FORM;
  const body = html`<h1>Silences</h1>
    ${notice(q)} ${input.problem === undefined ? '' : errorBox(input.problem)}
    <p>
      While a silence is active, events its matchers match get no Slack or email deliveries (webhooks only when it names
      them); each such event says which silence held it back. Nothing is sent when it ends.
    </p>
    <section aria-labelledby="h-list">
      <h2 id="h-list">All silences</h2>
      ${listProblem}
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Silence</th>
              <th scope="col">Matchers</th>
              <th scope="col">Destinations</th>
              <th scope="col">When</th>
              <th scope="col">Made by</th>
              <th scope="col">Comment</th>
              <th scope="col">Expire</th>
            </tr>
          </thead>
          <tbody>
            ${
              items.length === 0
                ? html`<tr>
                    <td colspan="7">No silences yet.</td>
                  </tr>`
                : ''
            }
            ${items.map((s) => renderSilenceRow(s, csrf, now))}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Pages">
        ${cursor ? html`<a href="/ui/silences">Newest</a>` : ''} ${next ? html`<a href="${next}">Older</a>` : ''}
      </nav>
    </section>
    ${renderCreateForm(form, input.destinations, csrf, input.problems ?? [])}`;
  return { title: 'Silences', body, status: input.status ?? 200 };
}

function renderSilenceRow(s: SilenceView, csrf: string, now: number): Html {
  const state = silenceState(s, now);
  return html`<tr class="silence" id="silence-${s.id}" data-silence="${s.id}">
    <th scope="row">${statePill(state)}<br /><code class="id">${s.id}</code></th>
    <td class="snippet matchers">${describeMatchers(s.matchers)}</td>
    <td>${s.destinations === null ? 'every Slack and email destination' : s.destinations.join(', ')}</td>
    <td>
      from ${showTime(s.startsAt)}<br />until ${showTime(s.endsAt)}
      ${
        s.expiredAt
          ? html`<br /><strong>expired</strong> ${showTime(s.expiredAt)} by ${orDash(s.expiredBy)}
              ${s.expiredVia === null ? '' : html`<small class="via">(${describeVia(s.expiredVia, s.expiredFrom)})</small>`}`
          : ''
      }
    </td>
    <td>
      ${s.createdBy}<br /><small>${showTime(s.createdAt)}</small>
      ${s.createdVia === null ? '' : html`<br /><small class="via">${describeVia(s.createdVia, s.createdFrom)}</small>`}
    </td>
    <td class="comment">${s.comment}</td>
    <td>
      ${
        state === 'expired'
          ? orDash(null)
          : html`<form method="post" action="/ui/silences/${encodeURIComponent(s.id)}/expire" class="expire">
              ${csrfField(csrf)}
              <label for="expire-by-${s.id}">Your name (optional)</label>
              <input id="expire-by-${s.id}" name="expiredBy" maxlength="200" autocomplete="name" />
              <button type="submit" aria-label="Expire silence ${s.id}">Expire</button>
            </form>`
      }
    </td>
  </tr>`;
}

function renderCreateForm(
  form: SilenceForm,
  destinations: readonly string[],
  csrf: string,
  problems: readonly string[],
) {
  const rows = Array.from({ length: Math.max(MATCHER_ROWS, form.fields.length, form.values.length) }, (_, i) => i);
  return html`<section aria-labelledby="h-create">
    <h2 id="h-create">New silence</h2>
    ${
      problems.length === 0
        ? ''
        : html`<div class="error" role="alert" id="create-problems">
            <p>The silence was not made:</p>
            <ul>
              ${problems.map((p) => html`<li>${p}</li>`)}
            </ul>
          </div>`
    }
    <form method="post" action="/ui/silences" class="silence-form">
      ${csrfField(csrf)}
      <fieldset>
        <legend>Matchers (a rule's match syntax; all must hold)</legend>
        ${rows.map(
          (i) =>
            html`<div class="matcher-row">
              <div class="field">
                <label for="m-field-${i}">Field ${i + 1}</label>
                <input
                  id="m-field-${i}"
                  name="matchField"
                  value="${form.fields[i] ?? ''}"
                  placeholder="${i === 0 ? 'payType' : i === 1 ? 'partner' : ''}"
                  autocomplete="off"
                />
              </div>
              <div class="field">
                <label for="m-value-${i}">Value ${i + 1}</label>
                <input
                  id="m-value-${i}"
                  name="matchValue"
                  value="${form.values[i] ?? ''}"
                  placeholder="${i === 0 ? 'failure' : i === 1 ? 'Acme@skypay' : ''}"
                  autocomplete="off"
                />
              </div>
            </div>`,
        )}
        <p class="meta">
          A value starting with { or [ is JSON (e.g. {"contains":"timeout"}); the same field twice means any of the
          values.
        </p>
        <div class="field">
          <label for="m-json">Or all matchers as JSON</label>
          <textarea id="m-json" name="matchers" rows="3" placeholder='{"payType": "failure"}'>${form.json}</textarea>
        </div>
      </fieldset>
      <fieldset>
        <legend>When</legend>
        <div class="field">
          <label for="s-starts">Starts at (ISO-8601 with a zone; empty: now)</label>
          <input id="s-starts" name="startsAt" value="${form.startsAt}" placeholder="2026-11-27T10:00:00Z" />
        </div>
        <div class="field">
          <label for="s-duration">For (30m, 2h, 1d)</label>
          <input id="s-duration" name="duration" value="${form.duration}" placeholder="2h" autocomplete="off" />
        </div>
        <div class="field">
          <label for="s-ends">Or ends at (ISO-8601 with a zone)</label>
          <input id="s-ends" name="endsAt" value="${form.endsAt}" placeholder="2026-11-27T12:00:00Z" />
        </div>
      </fieldset>
      <fieldset>
        <legend>Destinations (none ticked: every Slack and email destination)</legend>
        ${destinations.length === 0 ? html`<p class="meta">No destinations are configured.</p>` : ''}
        ${destinations.map(
          (d, i) =>
            html`<div class="field check">
              <input
                id="s-dest-${i}"
                type="checkbox"
                name="destination"
                value="${d}"
                ${form.destinations.includes(d) ? html`checked` : ''}
              />
              <label for="s-dest-${i}">${d}</label>
            </div>`,
        )}
      </fieldset>
      <div class="field">
        <label for="s-by">Created by (optional: your session is recorded either way)</label>
        <input id="s-by" name="createdBy" value="${form.createdBy}" maxlength="200" autocomplete="name" />
      </div>
      <div class="field check">
        <input id="s-force" type="checkbox" name="force" ${form.force ? html`checked` : ''} />
        <label for="s-force">Allow matchers that match every event of a kind (every payout, every alert)</label>
      </div>
      <div class="field">
        <label for="s-comment">Comment (why: an outage, a ticket)</label>
        <textarea id="s-comment" name="comment" rows="2" aria-required="true">${form.comment}</textarea>
      </div>
      <div><button type="submit">Create silence</button></div>
    </form>
  </section>`;
}
