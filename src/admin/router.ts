import Router from '@koa/router';
import type Database from 'better-sqlite3';
import type Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import type { RelayEvent } from '../event';
import type { Logger } from '../log';
import {
  getEvent, stringifyEventDetail, listDeliveries, listEvents, replayDeliveries, replayEvent, replayMatching,
  type ReplayResult,
} from '../store/queries';
import type { NewDelivery } from '../store/types';
import { requireBearerToken } from './auth';
import { FilterError, parseEventType, parseLimit, parseSince, parseState, parseStatus } from './filters';

export interface AdminDeps {
  token: string;
  db: Database.Database;
  plan: (event: RelayEvent) => NewDelivery[];
  /** Wakes the delivery worker after a replay, so requeued work goes out at once. */
  onReplayed: () => void;
  logger: Logger;
}

const DEFAULT_LIMIT = 50;

/**
 * /admin: the CLI's questions over HTTP, for people and tools that cannot
 * reach the host. JSON only; listings are pages of `items` with a `next`
 * link (null on the last page).
 */
export function createAdminRouter(deps: AdminDeps): Router {
  const router = new Router({ prefix: '/admin' });
  router.use(answerErrorsAsJson(deps.logger), requireBearerToken(deps.token));
  router.use(bodyParser({ enableTypes: ['json'], jsonLimit: '16kb', strict: true }));

  router.get('/events', (ctx) => {
    const q = readQuery(ctx);
    const limit = q['limit'] ? parseLimit(q['limit']) : DEFAULT_LIMIT;
    const items = listEvents(deps.db, {
      controlNumber: q['controlNumber'],
      status: q['status'] ? parseStatus(q['status']) : undefined,
      type: q['type'] ? parseEventType(q['type']) : undefined,
      sinceMs: q['since'] ? parseSince(q['since']) : undefined,
      before: q['cursor'], limit: limit + 1,
    });
    ctx.body = page(ctx, items, limit);
  });

  router.get('/events/:id', (ctx) => {
    const detail = getEvent(deps.db, ctx.params['id'] ?? '');
    if (!detail) return notFound(ctx, 'no such event');
    ctx.type = 'application/json';
    ctx.body = stringifyEventDetail(detail);
  });

  router.get('/deliveries', (ctx) => {
    const q = readQuery(ctx);
    const limit = q['limit'] ? parseLimit(q['limit']) : DEFAULT_LIMIT;
    const items = listDeliveries(deps.db, {
      state: q['state'] ? parseState(q['state']) : undefined, destination: q['destination'],
      sinceMs: q['since'] ? parseSince(q['since']) : undefined, before: q['cursor'], limit: limit + 1,
    });
    ctx.body = page(ctx, items, limit);
  });

  router.post('/deliveries/:id/replay', (ctx) => {
    const result = replayDeliveries(deps.db, [ctx.params['id'] ?? '']);
    const skipped = result.skipped[0];
    if (skipped?.reason === 'no such delivery') return notFound(ctx, skipped.reason);
    if (skipped) {
      ctx.status = 409;
      ctx.body = { error: `not replayed: ${skipped.reason}`, ...result };
      return;
    }
    answerReplay(ctx, result, deps);
  });

  router.post('/replay', (ctx) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const state = typeof body['state'] === 'string' ? parseState(body['state']) : 'dead';
    if (state !== 'dead' && state !== 'delivered') throw new FilterError('state: only dead or delivered deliveries can be replayed');
    const destination = typeof body['destination'] === 'string' ? body['destination'] : undefined;
    const sinceMs = typeof body['since'] === 'string' ? parseSince(body['since']) : undefined;
    answerReplay(ctx, replayMatching(deps.db, { state, destination, sinceMs }), deps);
  });

  router.post('/events/:id/replay', (ctx) => {
    const result = replayEvent(deps.db, ctx.params['id'] ?? '', deps.plan);
    if (!result) return notFound(ctx, 'no such event');
    answerReplay(ctx, result, deps);
  });

  return router;
}

function answerReplay(ctx: Koa.Context, result: ReplayResult, deps: AdminDeps): void {
  if (result.requeued.length + result.created.length > 0) deps.onReplayed();
  deps.logger.info({ requeued: result.requeued.length, created: result.created.length, skipped: result.skipped.length },
    'admin replay');
  ctx.body = result;
}

function readQuery(ctx: Koa.Context): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(ctx.query)) out[k] = Array.isArray(v) ? v[v.length - 1] : v;
  return out;
}

/** Fetched with limit + 1 rows: the extra one only says a next page exists. */
function page<T extends { id: string }>(ctx: Koa.Context, rows: T[], limit: number): { items: T[]; next: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  if (rows.length <= limit || !last) return { items, next: null };
  const params = new URLSearchParams(ctx.querystring);
  params.set('cursor', last.id);
  params.set('limit', String(limit));
  return { items, next: `${ctx.path}?${params.toString()}` };
}

function notFound(ctx: Koa.Context, message: string): void {
  ctx.status = 404;
  ctx.body = { error: message };
}

function answerErrorsAsJson(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) ctx.body = { error: 'no such admin endpoint' };
    } catch (err) {
      const status = err instanceof FilterError ? 400 : (err as { status?: number }).status ?? 500;
      ctx.status = status >= 400 && status < 600 ? status : 500;
      ctx.body = { error: ctx.status === 500 ? 'internal error' : (err as Error).message };
      if (ctx.status === 500) logger.error({ err }, 'admin request failed');
    }
  };
}
