import { FilterError, ReplayCountChangedError } from '../../operations/errors';
import { hasControlCharacters, parseName, parseSince, parseState } from '../../operations/filters';
import type { Filter, Queries } from '../../operations/queries';
import { DELIVERY_STATES, type DeliveryFilter, type DeliveryView } from '../../operations/views';
import { html, query, type Html } from '../html';
import { csrfField, errorBox, orDash, renderOptions, replayNotice, showTime, statePill, type Page } from '../layout';
import { readListing, renderPager } from '../listing';
import { formOf, formText, readQuery, redirectAfterReplay, type PageRoutes } from '../respond';
import { ID_PATTERN } from './events';

type Query = Record<string, string | undefined>;

export function readDeliveryFilter(q: Query, now: number): Filter<DeliveryFilter> {
  const pick = (name: string): string | undefined => (q[name]?.trim() ? q[name]?.trim() : undefined);
  const cursor = pick('cursor');
  if (cursor !== undefined && !ID_PATTERN.test(cursor)) throw new FilterError('cursor: not a delivery id');
  const destination = pick('destination');
  if (destination !== undefined && destination.length > 200) throw new FilterError('destination: too long');
  if (destination !== undefined && hasControlCharacters(destination)) {
    throw new FilterError('destination: control characters are not allowed');
  }
  const state = pick('state');
  const since = pick('since');
  return {
    state: state === undefined ? undefined : parseState(state),
    destination,
    sinceMs: since === undefined ? undefined : parseSince(since, now),
    before: cursor,
  };
}

export async function renderDeliveries(
  queries: Pick<Queries, 'listDeliveries'>,
  destinations: readonly string[],
  q: Query,
  csrf: string,
  now: number,
): Promise<Page> {
  const { filter, problem, items, next } = await readListing(
    () => readDeliveryFilter(q, now),
    (f, limit) => queries.listDeliveries(f, limit),
  );
  const keep = { ...q, cursor: undefined, requeued: undefined, created: undefined, skipped: undefined };
  const here = `/ui/deliveries${query({ ...keep, cursor: q['cursor'] })}`;
  const body = html`<h1>Deliveries</h1>
    ${replayNotice(q)} ${renderDeliveryFilters(q, destinations)} ${problem}
    ${filter !== undefined && isReplayable(filter.state) ? renderReplayMatching(filter, q, csrf) : ''}
    <form method="post" action="/ui/deliveries/replay" id="replay-selected">
      ${csrfField(csrf)}<input type="hidden" name="back" value="${here}" />
      ${renderDeliveryTable(items)}
      ${items.some((d) => isReplayable(d.state)) ? html`<button type="submit">Replay selected</button>` : ''}
    </form>
    ${renderPager('/ui/deliveries', q, keep, next)}`;
  return { title: 'Deliveries', body, status: filter ? 200 : 400 };
}

/** Only a dead or delivered delivery is replayed: a pending one is still being tried. */
function isReplayable(state: string | undefined): boolean {
  return state === 'dead' || state === 'delivered';
}

function renderDeliveryFilters(q: Query, destinations: readonly string[]): Html {
  return html`<form method="get" action="/ui/deliveries" class="filters" role="search" aria-label="Filter deliveries">
    <div class="field">
      <label for="f-state">State</label>
      <select id="f-state" name="state">
        <option value="">any</option>
        ${renderOptions(DELIVERY_STATES, q['state'])}
      </select>
    </div>
    <div class="field">
      <label for="f-destination">Destination</label>
      <select id="f-destination" name="destination">
        <option value="">any</option>
        ${renderOptions(destinations, q['destination'])}
      </select>
    </div>
    <div class="field">
      <label for="f-since">Changed since</label>
      <input id="f-since" name="since" value="${q['since'] ?? ''}" placeholder="24h" autocomplete="off" />
    </div>
    <div class="field actions">
      <button type="submit">Filter</button>
      <a href="/ui/deliveries">Clear</a>
    </div>
  </form>`;
}

/** "Replay all matching" under a dead or delivered filter: the next step shows the count to confirm. */
function renderReplayMatching(filter: Filter<DeliveryFilter>, q: Query, csrf: string): Html {
  return html`<form method="post" action="/ui/deliveries/replay-matching" class="inline">
    ${csrfField(csrf)}
    <input type="hidden" name="state" value="${filter.state}" />
    <input type="hidden" name="destination" value="${filter.destination ?? ''}" />
    <input type="hidden" name="since" value="${q['since'] ?? ''}" />
    <button type="submit">Replay all matching…</button>
    <small>Asks for confirmation with the count first.</small>
  </form>`;
}

function renderDeliveryTable(items: readonly DeliveryView[]): Html {
  return html`<div class="scroll">
    <table>
      <thead>
        <tr>
          <th scope="col"><span class="visually-hidden">Select</span></th>
          <th scope="col">Updated</th>
          <th scope="col">Destination</th>
          <th scope="col">State</th>
          <th scope="col">Attempts</th>
          <th scope="col">Event</th>
          <th scope="col">Last answer</th>
        </tr>
      </thead>
      <tbody>
        ${
          items.length === 0
            ? html`<tr>
                <td colspan="7">No deliveries match.</td>
              </tr>`
            : ''
        }
        ${items.map((d) => renderDeliveryRow(d))}
      </tbody>
    </table>
  </div>`;
}

function renderDeliveryRow(d: DeliveryView): Html {
  return html`<tr>
    <td>
      ${
        isReplayable(d.state)
          ? html`<input
              type="checkbox"
              name="id"
              value="${d.id}"
              id="sel-${d.id}"
              aria-label="Select delivery ${d.id} to ${d.destination}"
            />`
          : ''
      }
    </td>
    <td>${showTime(d.updatedAt)}</td>
    <td>${d.destination}</td>
    <td>${statePill(d.state)}</td>
    <td>${d.attempts}</td>
    <td>
      <a href="/ui/events/${encodeURIComponent(d.eventId)}#delivery-${d.id}">${d.controlNumber ?? d.eventType}</a>
    </td>
    <td class="snippet">${d.lastStatus !== null ? html`HTTP ${d.lastStatus} ` : ''}${orDash(d.lastError)}</td>
  </tr>`;
}

/** The confirmation step of "Replay all matching": the count now, and a button that repeats it. */
export function renderReplayConfirmation(
  form: { state: string; destination?: string | undefined; since?: string | undefined },
  count: number,
  csrf: string,
  changedFrom?: number,
): Page {
  const back = `/ui/deliveries${query({ state: form.state, destination: form.destination, since: form.since })}`;
  const scope = html`${form.state}
  deliveries${form.destination ? html` to ${form.destination}` : ''}${
    form.since ? html` changed since ${form.since}` : ''
  }`;
  const body = html`<h1>Replay all matching</h1>
    ${
      changedFrom === undefined
        ? ''
        : errorBox(`The count changed from ${changedFrom} to ${count} meanwhile: nothing was replayed. Confirm again.`)
    }
    ${
      count === 0
        ? html`<p>No ${scope} to replay.</p>`
        : html`<p role="status">This requeues <strong data-testid="replay-count">${count}</strong> ${scope}.</p>
            <form method="post" action="/ui/deliveries/replay-matching">
              ${csrfField(csrf)}
              <input type="hidden" name="state" value="${form.state}" />
              <input type="hidden" name="destination" value="${form.destination ?? ''}" />
              <input type="hidden" name="since" value="${form.since ?? ''}" />
              <input type="hidden" name="confirm" value="${count}" />
              <button type="submit">Replay ${count} deliveries</button>
            </form>`
    }
    <p><a href="${back}">Cancel</a></p>`;
  return { title: 'Replay all matching', body };
}

export const deliveriesRoutes: PageRoutes = (router, { deps, now, destinationNames, csrfOf, page }) => {
  const { queries, replays } = deps.operations;
  router.get('/ui/deliveries', async (ctx) => {
    page(ctx, await renderDeliveries(queries, destinationNames, readQuery(ctx), csrfOf(ctx), now()));
  });

  router.post('/ui/deliveries/:id/replay', async (ctx) => {
    const id = ctx.params['id'] ?? '';
    if (!ID_PATTERN.test(id)) throw new FilterError('not a delivery id');
    const result = await replays.replayDeliveries([id]);
    redirectAfterReplay(ctx, result, formText(formOf(ctx), 'back') ?? '/ui/deliveries');
  });

  router.post('/ui/deliveries/replay', async (ctx) => {
    const form = formOf(ctx);
    const raw = form['id'];
    const ids = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((id) => ID_PATTERN.test(id));
    if (ids.length === 0) throw new FilterError('Select at least one delivery to replay.');
    if (ids.length > 1000) throw new FilterError('At most 1000 deliveries at once.');
    redirectAfterReplay(ctx, await replays.replayDeliveries(ids), formText(form, 'back') ?? '/ui/deliveries');
  });

  // Every matching delivery, dead or delivered: the count is shown and confirmed first, whichever state.
  router.post('/ui/deliveries/replay-matching', async (ctx) => {
    const form = formOf(ctx);
    const destination = formText(form, 'destination');
    const since = formText(form, 'since');
    const request = {
      state: parseState(formText(form, 'state') ?? 'dead'),
      destination: destination === undefined ? undefined : parseName(destination, 'destination'),
      sinceMs: since === undefined ? undefined : parseSince(since, now()),
    };
    const shown = { state: request.state, destination: request.destination, since };
    const confirmText = formText(form, 'confirm');
    if (confirmText === undefined) {
      page(ctx, renderReplayConfirmation(shown, await replays.countMatching(request), csrfOf(ctx)));
      return;
    }
    if (!/^\d{1,9}$/.test(confirmText)) throw new FilterError('confirm: expected the count shown');
    const confirm = Number(confirmText);
    try {
      const result = await replays.replayMatching({ ...request, confirm });
      const back = `/ui/deliveries${query({ state: request.state, destination: request.destination })}`;
      redirectAfterReplay(ctx, result, back);
    } catch (err) {
      if (!(err instanceof ReplayCountChangedError)) throw err;
      page(ctx, { ...renderReplayConfirmation(shown, err.count, csrfOf(ctx), confirm), status: 409 });
    }
  });
};
