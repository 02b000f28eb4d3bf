import { fingerprint } from '../../http/bearer';
import { statusOfError } from '../../admin/error-status';
import { SilenceInputError, type SilenceActor } from '../../alerts/silence-input';
import { NotFoundError } from '../../operations/errors';
import type { DescribedSilence, SilenceOperations } from '../../operations/silences';
import { html, type Html } from '../html';
import { csrfField, errorBox, orDash, showTime, statePill, type Page } from '../layout';
import { PAGE_SIZE, renderPager } from '../listing';
import { formOf, formText, readQuery, type Ctx, type PageRoutes } from '../respond';
import { ID_PATTERN } from './events';
import { EMPTY_SILENCE_FORM, MATCHER_ROWS, readSilenceForm, toNewSilence, type SilenceForm } from './silence-form';

type Query = Record<string, string | undefined>;

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
  silences: Pick<SilenceOperations, 'list'>;
  destinations: readonly string[];
  q: Query;
  csrf: string;
  /** The form as typed and why it was refused, after a failed create. */
  form?: SilenceForm;
  problems?: readonly string[];
  /** A failed expiry's message. */
  problem?: string;
  status?: number;
}

export async function renderSilences(input: SilencesPageInput): Promise<Page> {
  const { q, csrf } = input;
  const cursor = q['cursor']?.trim() || undefined;
  let listProblem: Html = html``;
  let page: { items: DescribedSilence[]; next: string | undefined } = { items: [], next: undefined };
  if (cursor !== undefined && !ID_PATTERN.test(cursor)) listProblem = errorBox('cursor: not a silence id');
  else page = await input.silences.list(PAGE_SIZE, cursor);
  const { items, next } = page;
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
            ${items.map((s) => renderSilenceRow(s, csrf))}
          </tbody>
        </table>
      </div>
      ${renderPager('/ui/silences', q, {}, next)}
    </section>
    ${renderCreateForm(form, input.destinations, csrf, input.problems ?? [])}`;
  return { title: 'Silences', body, status: input.status ?? 200 };
}

function renderSilenceRow(s: DescribedSilence, csrf: string): Html {
  const { state } = s;
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
): Html {
  return html`<section aria-labelledby="h-create">
    <h2 id="h-create">New silence</h2>
    ${renderCreateProblems(problems)}
    <form method="post" action="/ui/silences" class="silence-form">
      ${csrfField(csrf)} ${renderMatchersFieldset(form)} ${renderWhenFieldset(form)}
      ${renderDestinationsFieldset(form, destinations)}
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

/** Why the last create was refused, every problem at once, above the form as typed. */
function renderCreateProblems(problems: readonly string[]): Html | '' {
  if (problems.length === 0) return '';
  return html`<div class="error" role="alert" id="create-problems">
    <p>The silence was not made:</p>
    <ul>
      ${problems.map((p) => html`<li>${p}</li>`)}
    </ul>
  </div>`;
}

/** Field and value rows (as many as typed, at least MATCHER_ROWS), or every matcher as JSON. */
function renderMatchersFieldset(form: SilenceForm): Html {
  const rows = Array.from({ length: Math.max(MATCHER_ROWS, form.fields.length, form.values.length) }, (_, i) => i);
  return html`<fieldset>
    <legend>Matchers (a rule's match syntax; all must hold)</legend>
    <p class="meta hint" id="matcher-example">
      For example: field <code>payType</code>, value <code>failure</code>; field <code>partner</code>, value
      <code>Acme@skypay</code>.
    </p>
    ${rows.map((i) => renderMatcherRow(form, i))}
    <p class="meta">
      A value starting with { or [ is JSON (e.g. {"contains":"timeout"}); the same field twice means any of the values.
    </p>
    <div class="field">
      <label for="m-json">Or all matchers as JSON</label>
      <textarea id="m-json" name="matchers" rows="3" aria-describedby="json-example">${form.json}</textarea>
      <small class="hint" id="json-example">For example: <code>{"payType": "failure"}</code></small>
    </div>
  </fieldset>`;
}

function renderMatcherRow(form: SilenceForm, i: number): Html {
  return html`<div class="matcher-row">
    <div class="field">
      <label for="m-field-${i}">Field ${i + 1}</label>
      <input
        id="m-field-${i}"
        name="matchField"
        value="${form.fields[i] ?? ''}"
        aria-describedby="matcher-example"
        autocomplete="off"
      />
    </div>
    <div class="field">
      <label for="m-value-${i}">Value ${i + 1}</label>
      <input
        id="m-value-${i}"
        name="matchValue"
        value="${form.values[i] ?? ''}"
        aria-describedby="matcher-example"
        autocomplete="off"
      />
    </div>
  </div>`;
}

function renderWhenFieldset(form: SilenceForm): Html {
  return html`<fieldset>
    <legend>When</legend>
    <div class="field">
      <label for="s-starts">Starts at (ISO-8601 with a zone; empty: now)</label>
      <input id="s-starts" name="startsAt" value="${form.startsAt}" aria-describedby="starts-example" />
      <small class="hint" id="starts-example">For example: <code>2026-11-27T10:00:00Z</code></small>
    </div>
    <div class="field">
      <label for="s-duration">For (30m, 2h, 1d)</label>
      <input id="s-duration" name="duration" value="${form.duration}" autocomplete="off" />
    </div>
    <div class="field">
      <label for="s-ends">Or ends at (ISO-8601 with a zone)</label>
      <input id="s-ends" name="endsAt" value="${form.endsAt}" aria-describedby="ends-example" />
      <small class="hint" id="ends-example">For example: <code>2026-11-27T12:00:00Z</code></small>
    </div>
  </fieldset>`;
}

function renderDestinationsFieldset(form: SilenceForm, destinations: readonly string[]): Html {
  return html`<fieldset>
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
  </fieldset>`;
}

/** Who acts on a silence here: the session (its id's fingerprint, never the id), signed in with the admin token. */
function actorOf(ctx: Ctx, tokenPrint: string): SilenceActor {
  const session = ctx.state.session;
  const via = `dashboard session ${session ? fingerprint(session.id) : '?'} (admin token ${tokenPrint})`;
  return { name: via, via, from: ctx.ip || null };
}

export const silencesRoutes: PageRoutes = (router, { deps, destinationNames, csrfOf, page }) => {
  const { silences } = deps.operations;
  const tokenPrint = fingerprint(deps.token);
  const render = (ctx: Ctx, extra: Partial<SilencesPageInput> = {}) =>
    renderSilences({ silences, destinations: destinationNames, q: readQuery(ctx), csrf: csrfOf(ctx), ...extra });

  router.get('/ui/silences', async (ctx) => {
    page(ctx, await render(ctx));
  });

  router.post('/ui/silences', async (ctx) => {
    const form = readSilenceForm(formOf(ctx));
    try {
      const made = await silences.create(actorOf(ctx, tokenPrint), (context) => toNewSilence(form, context));
      ctx.status = 303;
      ctx.redirect(`/ui/silences?created=${encodeURIComponent(made.id)}`);
    } catch (err) {
      if (!(err instanceof SilenceInputError)) throw err;
      page(ctx, await render(ctx, { q: {}, form, problems: err.problems, status: 400 }));
    }
  });

  // Refused here, on the silences page, with why: an unknown silence, one already ended, a name too long.
  router.post('/ui/silences/:id/expire', async (ctx) => {
    const id = ctx.params['id'] ?? '';
    try {
      if (!ID_PATTERN.test(id)) throw new NotFoundError(`no silence with id "${id}"`);
      const made = await silences.expire(id, actorOf(ctx, tokenPrint), formText(formOf(ctx), 'expiredBy'));
      ctx.status = 303;
      ctx.redirect(`/ui/silences?expired=${encodeURIComponent(made.id)}`);
    } catch (err) {
      const status = statusOfError(err);
      if (status !== 400 && status !== 404 && status !== 409) throw err;
      page(ctx, await render(ctx, { q: {}, problem: (err as Error).message, status }));
    }
  });
};
