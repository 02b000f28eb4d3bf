import { FilterError, hasControlCharacters, parseSince, parseState } from '../../admin/filters';
import type { InspectStore } from '../../store/store';
import { DELIVERY_STATES } from '../../delivery/types';
import type { DeliveryFilter } from '../../store/types';
import { html, query, type Html } from '../html';
import { csrfField, errorBox, orDash, replayNotice, showTime, statePill, type Page } from '../layout';
import { ID_PATTERN } from './events';

const PAGE_SIZE = 50;
type Query = Record<string, string | undefined>;

export function readDeliveryFilter(q: Query, now: number): DeliveryFilter {
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
    limit: PAGE_SIZE + 1,
  };
}

export async function renderDeliveries(
  store: InspectStore,
  destinations: readonly string[],
  q: Query,
  csrf: string,
  now: number,
): Promise<Page> {
  let filter: DeliveryFilter | undefined;
  let problem: Html = html``;
  try {
    filter = readDeliveryFilter(q, now);
  } catch (err) {
    if (!(err instanceof FilterError)) throw err;
    problem = errorBox(err.message);
  }
  const rows = filter ? await store.listDeliveries(filter) : [];
  const items = rows.slice(0, PAGE_SIZE);
  const last = items[items.length - 1];
  const keep = { ...q, cursor: undefined, requeued: undefined, created: undefined, skipped: undefined };
  const next = rows.length > PAGE_SIZE && last ? `/ui/deliveries${query({ ...keep, cursor: last.id })}` : undefined;
  const here = `/ui/deliveries${query({ ...keep, cursor: q['cursor'] })}`;
  const replayable = filter?.state === 'dead' || filter?.state === 'delivered';
  const selectable = items.some((d) => d.state === 'dead' || d.state === 'delivered');
  const body = html`<h1>Deliveries</h1>
    ${replayNotice(q)}
    <form method="get" action="/ui/deliveries" class="filters" role="search" aria-label="Filter deliveries">
      <div class="field">
        <label for="f-state">State</label>
        <select id="f-state" name="state">
          <option value="">any</option>
          ${DELIVERY_STATES.map((s) => html`<option value="${s}" ${q['state'] === s ? html`selected` : ''}>${s}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="f-destination">Destination</label>
        <select id="f-destination" name="destination">
          <option value="">any</option>
          ${destinations.map(
            (d) => html`<option value="${d}" ${q['destination'] === d ? html`selected` : ''}>${d}</option>`,
          )}
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
    </form>
    ${problem}
    ${
      replayable
        ? html`<form method="post" action="/ui/deliveries/replay-matching" class="inline">
            ${csrfField(csrf)}
            <input type="hidden" name="state" value="${filter?.state}" />
            <input type="hidden" name="destination" value="${filter?.destination ?? ''}" />
            <input type="hidden" name="since" value="${q['since'] ?? ''}" />
            <button type="submit">Replay all matching…</button>
            <small>Asks for confirmation with the count first.</small>
          </form>`
        : ''
    }
    <form method="post" action="/ui/deliveries/replay" id="replay-selected">
      ${csrfField(csrf)}<input type="hidden" name="back" value="${here}" />
      <div class="scroll">
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
            ${items.map(
              (d) =>
                html`<tr>
                  <td>
                    ${
                      d.state === 'dead' || d.state === 'delivered'
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
                    <a href="/ui/events/${encodeURIComponent(d.eventId)}#delivery-${d.id}"
                      >${d.controlNumber ?? d.eventType}</a
                    >
                  </td>
                  <td class="snippet">
                    ${d.lastStatus !== null ? html`HTTP ${d.lastStatus} ` : ''}${orDash(d.lastError)}
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${selectable ? html`<button type="submit">Replay selected</button>` : ''}
    </form>
    <nav class="pager" aria-label="Pages">
      ${q['cursor'] ? html`<a href="/ui/deliveries${query(keep)}">Newest</a>` : ''}
      ${next ? html`<a href="${next}">Older</a>` : ''}
    </nav>`;
  return { title: 'Deliveries', body, status: filter ? 200 : 400 };
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
