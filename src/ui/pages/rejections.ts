import { FilterError, parseReason, parseSince } from '../../admin/filters';
import type { InspectStore } from '../../store/store';
import type { RejectionFilter } from '../../store/types';
import { html, query, type Html } from '../html';
import { errorBox, orDash, showTime, type Page } from '../layout';
import { ID_PATTERN } from './events';

const PAGE_SIZE = 50;
type Query = Record<string, string | undefined>;

function readFilter(q: Query, now: number): RejectionFilter {
  const pick = (name: string): string | undefined => (q[name]?.trim() ? q[name]?.trim() : undefined);
  const cursor = pick('cursor');
  if (cursor !== undefined && !ID_PATTERN.test(cursor)) throw new FilterError('cursor: not a rejection id');
  const reason = pick('reason');
  const since = pick('since');
  return {
    reason: reason === undefined ? undefined : parseReason(reason),
    sinceMs: since === undefined ? undefined : parseSince(since, now),
    before: cursor,
    limit: PAGE_SIZE + 1,
  };
}

/** "Did SkyPay call us?": every refused callback, newest first. */
export async function renderRejections(store: InspectStore, q: Query, now: number): Promise<Page> {
  let filter: RejectionFilter | undefined;
  let problem: Html = html``;
  try {
    filter = readFilter(q, now);
  } catch (err) {
    if (!(err instanceof FilterError)) throw err;
    problem = errorBox(err.message);
  }
  const rows = filter ? await store.listRejections(filter) : [];
  const items = rows.slice(0, PAGE_SIZE);
  const last = items[items.length - 1];
  const keep = { ...q, cursor: undefined };
  const next = rows.length > PAGE_SIZE && last ? `/ui/rejections${query({ ...keep, cursor: last.id })}` : undefined;
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
    <nav class="pager" aria-label="Pages">
      ${q['cursor'] ? html`<a href="/ui/rejections${query(keep)}">Newest</a>` : ''}
      ${next ? html`<a href="${next}">Older</a>` : ''}
    </nav>`;
  return { title: 'Refused callbacks', body, status: filter ? 200 : 400 };
}
