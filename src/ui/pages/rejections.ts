import { FilterError } from '../../operations/errors';
import { parseReason, parseSince } from '../../operations/filters';
import type { Filter, Queries } from '../../operations/queries';
import type { RejectionFilter } from '../../operations/views';
import { html } from '../html';
import { orDash, showTime, type Page } from '../layout';
import { readListing, renderPager } from '../listing';
import { readQuery, type PageRoutes } from '../respond';
import { ID_PATTERN } from './events';

type Query = Record<string, string | undefined>;

function readFilter(q: Query, now: number): Filter<RejectionFilter> {
  const pick = (name: string): string | undefined => (q[name]?.trim() ? q[name]?.trim() : undefined);
  const cursor = pick('cursor');
  if (cursor !== undefined && !ID_PATTERN.test(cursor)) throw new FilterError('cursor: not a rejection id');
  const reason = pick('reason');
  const since = pick('since');
  return {
    reason: reason === undefined ? undefined : parseReason(reason),
    sinceMs: since === undefined ? undefined : parseSince(since, now),
    before: cursor,
  };
}

/** "Did SkyPay call us?": every refused callback, newest first. */
export async function renderRejections(queries: Pick<Queries, 'listRejections'>, q: Query, now: number): Promise<Page> {
  const { filter, problem, items, next } = await readListing(
    () => readFilter(q, now),
    (f, limit) => queries.listRejections(f, limit),
  );
  const body = html`<h1>Refused callbacks</h1>
    <form method="get" action="/ui/rejections" class="filters" role="search" aria-label="Filter refused callbacks">
      <div class="field">
        <label for="f-reason">Reason</label>
        <input id="f-reason" name="reason" value="${q['reason'] ?? ''}" placeholder="unauthenticated" />
      </div>
      <div class="field">
        <label for="f-since">Since</label>
        <input id="f-since" name="since" value="${q['since'] ?? ''}" placeholder="24h" autocomplete="off" />
      </div>
      <div class="field actions">
        <button type="submit">Filter</button>
        <a href="/ui/rejections">Clear</a>
      </div>
    </form>
    ${problem}
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Received</th>
            <th scope="col">Remote address</th>
            <th scope="col">Reason</th>
            <th scope="col">Answer</th>
            <th scope="col">Partner</th>
            <th scope="col">Description</th>
          </tr>
        </thead>
        <tbody>
          ${
            items.length === 0
              ? html`<tr>
                  <td colspan="6">No refused callbacks match.</td>
                </tr>`
              : ''
          }
          ${items.map(
            (r) =>
              html`<tr class="rejection">
                <td>${showTime(r.receivedAt)}</td>
                <td>${orDash(r.remoteAddress)}</td>
                <td>${r.reason}</td>
                <td>HTTP ${r.status}</td>
                <td>${orDash(r.partner)}</td>
                <td class="snippet">
                  ${r.description}
                  ${r.suppressed > 0 ? html`<br /><small>and ${r.suppressed} more like it, only counted</small>` : ''}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${renderPager('/ui/rejections', q, { ...q, cursor: undefined }, next)}`;
  return { title: 'Refused callbacks', body, status: filter ? 200 : 400 };
}

export const rejectionsRoutes: PageRoutes = (router, { deps, now, page }) => {
  router.get('/ui/rejections', async (ctx) => {
    page(ctx, await renderRejections(deps.operations.queries, readQuery(ctx), now()));
  });
};
