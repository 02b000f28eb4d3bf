import { FilterError } from '../operations/errors';
import type { Page } from '../operations/paging';
import { html, query, type Html } from './html';
import { errorBox } from './layout';

/** Rows a listing page shows at once. */
export const PAGE_SIZE = 50;

type Query = Record<string, string | undefined>;

/** A listing page's rows: the filter read from its query, or, when that is wrong, the problem and no rows. */
export interface Listing<F, T> extends Page<T> {
  filter: F | undefined;
  problem: Html;
}

export async function readListing<F, T>(
  read: () => F,
  list: (filter: F, limit: number) => Promise<Page<T>>,
): Promise<Listing<F, T>> {
  let filter: F;
  try {
    filter = read();
  } catch (err) {
    if (!(err instanceof FilterError)) throw err;
    return { filter: undefined, problem: errorBox(err.message), items: [], next: undefined };
  }
  return { filter, problem: html``, ...(await list(filter, PAGE_SIZE)) };
}

/**
 * The Newest and Older links under a listing at `path`, keeping its filters (`keep`: the query without its cursor and
 * one-off notices).
 */
export function renderPager(path: string, q: Query, keep: Query, next: string | undefined): Html {
  return html`<nav class="pager" aria-label="Pages">
    ${q['cursor'] ? html`<a href="${path}${query(keep)}">Newest</a>` : ''}
    ${next === undefined ? '' : html`<a href="${path}${query({ ...keep, cursor: next })}">Older</a>`}
  </nav>`;
}
