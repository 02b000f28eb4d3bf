import type Koa from 'koa';
import { parseLimit } from '../operations/filters';
import type { Page } from '../operations/paging';

const DEFAULT_LIMIT = 50;

/** The query string, each parameter given once: the last of repeated ones. */
export function readQuery(ctx: Koa.Context): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(ctx.query)) out[k] = Array.isArray(v) ? v[v.length - 1] : v;
  return out;
}

export function readLimit(q: Record<string, string | undefined>): number {
  return q['limit'] ? parseLimit(q['limit']) : DEFAULT_LIMIT;
}

/** A page as the API answers it: its items, and the link to the next page (this request with its cursor), or null. */
export function linked<T>(ctx: Koa.Context, page: Page<T>): { items: T[]; next: string | null } {
  if (page.next === undefined) return { items: page.items, next: null };
  const params = new URLSearchParams(ctx.querystring);
  params.set('cursor', page.next);
  params.set('limit', String(page.items.length));
  return { items: page.items, next: `${ctx.path}?${params.toString()}` };
}
