import { PAY_STATUSES } from '../../event';
import { FilterError } from '../../operations/errors';
import { hasControlCharacters, parseEventType, parseSince, parseStatus } from '../../operations/filters';
import type { Filter, Queries } from '../../operations/queries';
import type { EventFilter } from '../../operations/views';
import { html } from '../html';
import { orDash, renderOptions, showTime, type Page } from '../layout';
import { readListing, renderPager } from '../listing';
import { readQuery, type PageRoutes } from '../respond';

const TYPES = [
  'payout',
  'rejection',
  'delivery.dead',
  'callback.conflict',
  'database.lost',
  'destination.unhealthy',
  'destination.recovered',
];
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;

type Query = Record<string, string | undefined>;

/** The filters from the query string, as the admin API reads them; a bad one is a FilterError naming it. */
export function readEventFilter(q: Query, now: number): Filter<EventFilter> {
  const text = (name: string, max: number): string | undefined => {
    const v = q[name]?.trim();
    if (v === undefined || v === '') return undefined;
    if (v.length > max) throw new FilterError(`${name}: at most ${max} characters`);
    if (hasControlCharacters(v)) throw new FilterError(`${name}: control characters are not allowed`);
    return v;
  };
  const cursor = text('cursor', 100);
  if (cursor !== undefined && !ID_PATTERN.test(cursor)) throw new FilterError('cursor: not an event id');
  const since = text('since', 40);
  const until = text('until', 40);
  const status = text('status', 20);
  const type = text('type', 40);
  return {
    controlNumber: text('controlNumber', 64),
    partner: text('partner', 100),
    status: status === undefined ? undefined : parseStatus(status),
    type: type === undefined ? undefined : parseEventType(type),
    sinceMs: since === undefined ? undefined : parseSince(since, now),
    untilMs: until === undefined ? undefined : parseUntil(until, now),
    before: cursor,
  };
}

/** Like since (a duration back from now, or an ISO-8601 instant), named as what it is in the error. */
function parseUntil(text: string, now: number): number {
  try {
    return parseSince(text, now);
  } catch (err) {
    if (err instanceof FilterError) throw new FilterError(err.message.replace(/^since:/, 'until:'));
    throw err;
  }
}

export async function renderEvents(queries: Pick<Queries, 'listEvents'>, q: Query, now: number): Promise<Page> {
  const { filter, problem, items, next } = await readListing(
    () => readEventFilter(q, now),
    (f, limit) => queries.listEvents(f, limit),
  );
  const field = (name: string, label: string, hint: string) =>
    html`<div class="field">
      <label for="f-${name}">${label}</label>
      <input id="f-${name}" name="${name}" value="${q[name] ?? ''}" placeholder="${hint}" autocomplete="off" />
    </div>`;
  const select = (name: string, label: string, options: string[]) =>
    html`<div class="field">
      <label for="f-${name}">${label}</label>
      <select id="f-${name}" name="${name}">
        <option value="">any</option>
        ${renderOptions(options, q[name])}
      </select>
    </div>`;
  const body = html`<h1>Events</h1>
    <form method="get" action="/ui/events" class="filters" role="search" aria-label="Filter events">
      ${field('controlNumber', 'Control number', 'SK99123456789')}
      ${select('status', 'Status', Object.values(PAY_STATUSES))} ${field('partner', 'Partner', 'AppName@skypay')}
      ${select('type', 'Type', TYPES)} ${field('since', 'From', '24h or 2026-11-27T06:00Z')}
      ${field('until', 'Until', '1h or 2026-11-27T07:00Z')}
      <div class="field actions">
        <button type="submit">Filter</button>
        <a href="/ui/events">Clear</a>
      </div>
    </form>
    ${problem}
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Received</th>
            <th scope="col">Event</th>
            <th scope="col">Control number</th>
            <th scope="col">Status</th>
            <th scope="col">Partner</th>
            <th scope="col">Deliveries</th>
          </tr>
        </thead>
        <tbody>
          ${
            items.length === 0
              ? html`<tr>
                  <td colspan="6">No events match.</td>
                </tr>`
              : ''
          }
          ${items.map(
            (e) =>
              html`<tr>
                <td>${showTime(e.receivedAt)}</td>
                <td><a href="/ui/events/${encodeURIComponent(e.id)}">${e.type}</a></td>
                <td>${orDash(e.controlNumber)}</td>
                <td>${orDash(e.status)}</td>
                <td>${orDash(e.partner)}</td>
                <td>
                  ${e.deliveries.delivered}
                  delivered${
                    e.deliveries.pending + e.deliveries.inflight > 0
                      ? html`, ${e.deliveries.pending + e.deliveries.inflight} pending`
                      : ''
                  }${e.deliveries.dead > 0 ? html`, <strong class="bad">${e.deliveries.dead} dead</strong>` : ''}
                  ${e.duplicates > 0 ? html`<br /><small>${e.duplicates} duplicate callbacks</small>` : ''}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${renderPager('/ui/events', q, { ...q, cursor: undefined }, next)}
    ${q['cursor'] ? '' : html`<p class="updated">Updated ${showTime(now)}</p>`}`;
  // Only the first page follows new events: a later page would shift under the reader.
  return { title: 'Events', body, live: !q['cursor'], status: filter ? 200 : 400 };
}

export const eventsRoutes: PageRoutes = (router, { deps, now, page }) => {
  router.get('/ui/events', async (ctx) => {
    page(ctx, await renderEvents(deps.operations.queries, readQuery(ctx), now()));
  });
};
