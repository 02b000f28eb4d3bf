import Router from '@koa/router';
import type Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import type { RelayEvent } from '../event';
import type { Logger } from '../log';
import { stringifyEventDetail, stringifyPayoutDetail } from '../store/detail-json';
import { ReplayCountChangedError } from '../store/errors';
import type { InspectStore, PayoutStore, ReplayStore } from '../store/store';
import type { RejectionFilter, ReplayResult } from '../store/types';
import type { NewDelivery } from '../delivery/types';
import { guardPrefix } from '../http/path-guard';
import type { AuthGate } from '../http/auth-gate';
import { ADMIN_BEARER, requireBearerToken } from '../http/bearer';
import { addSilenceRoutes, type SilenceRoutesDeps } from './silences';
import {
  FilterError,
  checkRejectionFilters,
  parseEventType,
  parseCursor,
  parseLimit,
  parseName,
  parseOlderThan,
  parsePayoutState,
  parseConfirmation,
  parseReason,
  parseSince,
  parseState,
  parseStatus,
  statusOfError,
} from './filters';

export interface AdminDeps {
  token: string;
  store: InspectStore & ReplayStore & PayoutStore;
  plan: (event: RelayEvent) => NewDelivery[];
  /** Wakes the delivery worker after a replay, so requeued work goes out at once. */
  onReplayed: () => void;
  logger: Logger;
  /** /admin/silences; left out where silences are not served. */
  silences?: Omit<SilenceRoutesDeps, 'logger'>;
}

const DEFAULT_LIMIT = 50;
export const ADMIN_PREFIX = '/admin';

/**
 * Runs before any routing (see createApp's guards): every path under /admin,
 * in any spelling and whether or not a route exists for it, needs the token;
 * only then does the strict, case-sensitive router decide between an answer
 * and a 404. Errors and 404s below /admin are answered as JSON.
 */
export function guardAdmin(deps: Pick<AdminDeps, 'token' | 'logger'> & { gate?: AuthGate }): Koa.Middleware {
  const authenticate = requireBearerToken(deps.token, ADMIN_BEARER, deps.gate);
  const answerAsJson = answerErrorsAsJson(deps.logger);
  return guardPrefix(ADMIN_PREFIX, (ctx, next) => authenticate(ctx, () => answerAsJson(ctx, next)));
}

/**
 * /admin: the CLI's questions over HTTP, for people and tools that cannot
 * reach the host. JSON only; listings are pages of `items` with a `next`
 * link (null on the last page).
 */
export function createAdminRouter(deps: AdminDeps): Router {
  // Strict and case-sensitive: `/ADMIN/events` or `/admin/events/` is not a second spelling of a route.
  const router = new Router({ prefix: ADMIN_PREFIX, strict: true, sensitive: true });
  // Also checked here, in case this router is ever mounted without guardAdmin in front of it.
  router.use(requireBearerToken(deps.token));
  router.use(bodyParser({ enableTypes: ['json'], jsonLimit: '16kb', strict: true }));

  router.get('/events', async (ctx) => {
    const q = readQuery(ctx);
    const limit = q['limit'] ? parseLimit(q['limit']) : DEFAULT_LIMIT;
    const type = q['type'] ? parseEventType(q['type']) : undefined;
    if (type === 'rejection') {
      checkRejectionFilters({ controlNumber: q['controlNumber'] || undefined, status: q['status'] || undefined });
      ctx.body = page(ctx, await deps.store.listRejections(readRejectionFilter(q, limit)), limit);
      return;
    }
    const items = await deps.store.listEvents({
      controlNumber: q['controlNumber'] ? parseName(q['controlNumber'], 'controlNumber') : undefined,
      status: q['status'] ? parseStatus(q['status']) : undefined,
      type,
      sinceMs: q['since'] ? parseSince(q['since']) : undefined,
      before: q['cursor'] ? parseCursor(q['cursor']) : undefined,
      limit: limit + 1,
    });
    ctx.body = page(ctx, items, limit);
  });

  router.get('/rejections', async (ctx) => {
    const q = readQuery(ctx);
    const limit = q['limit'] ? parseLimit(q['limit']) : DEFAULT_LIMIT;
    ctx.body = page(ctx, await deps.store.listRejections(readRejectionFilter(q, limit)), limit);
  });

  router.get('/events/:id', async (ctx) => {
    const detail = await deps.store.getEvent(ctx.params['id'] ?? '');
    if (!detail) return notFound(ctx, 'no such event');
    ctx.type = 'application/json';
    ctx.body = stringifyEventDetail(detail);
  });

  router.get('/deliveries', async (ctx) => {
    const q = readQuery(ctx);
    const limit = q['limit'] ? parseLimit(q['limit']) : DEFAULT_LIMIT;
    const items = await deps.store.listDeliveries({
      state: q['state'] ? parseState(q['state']) : undefined,
      destination: q['destination'] ? parseName(q['destination'], 'destination') : undefined,
      sinceMs: q['since'] ? parseSince(q['since']) : undefined,
      before: q['cursor'] ? parseCursor(q['cursor']) : undefined,
      limit: limit + 1,
    });
    ctx.body = page(ctx, items, limit);
  });

  router.post('/deliveries/:id/replay', async (ctx) => {
    const result = await deps.store.replayDeliveries([ctx.params['id'] ?? '']);
    const skipped = result.skipped[0];
    if (skipped?.reason === 'no such delivery') return notFound(ctx, skipped.reason);
    if (skipped) {
      ctx.status = 409;
      ctx.body = { error: `not replayed: ${skipped.reason}`, ...result };
      return;
    }
    answerReplay(ctx, result, deps);
  });

  router.post('/replay', async (ctx) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const state = typeof body['state'] === 'string' ? parseState(body['state']) : 'dead';
    if (state !== 'dead' && state !== 'delivered')
      throw new FilterError('state: only dead or delivered deliveries can be replayed');
    const destination =
      typeof body['destination'] === 'string' ? parseName(body['destination'], 'destination') : undefined;
    const sinceMs = typeof body['since'] === 'string' ? parseSince(body['since']) : undefined;
    if (state === 'dead')
      return answerReplay(ctx, await deps.store.replayMatching({ state, destination, sinceMs }), deps);
    // Delivered messages were received once already: re-sending them needs a narrow filter and a confirmed count.
    if (destination === undefined && sinceMs === undefined) {
      throw new FilterError(
        'replaying delivered deliveries needs "since" or "destination": they were all received once already',
      );
    }
    const confirm = body['confirm'];
    if (confirm === undefined) {
      const count = await deps.store.countReplayable({ state, destination, sinceMs });
      ctx.status = 400;
      ctx.body = {
        error: `this would requeue ${count} delivered deliveries; send the same request with "confirm": ${count}`,
        count,
      };
      return;
    }
    if (typeof confirm !== 'number' || !Number.isSafeInteger(confirm) || confirm < 0) {
      throw new FilterError('confirm: expected the number of deliveries the replay requeues, as a whole number');
    }
    try {
      answerReplay(ctx, await deps.store.replayMatching({ state, destination, sinceMs, confirm }), deps);
    } catch (err) {
      if (!(err instanceof ReplayCountChangedError)) throw err;
      ctx.status = 409;
      ctx.body = { error: `${err.message}; confirm ${err.count} to replay them`, count: err.count };
    }
  });

  router.get('/payouts', async (ctx) => {
    const q = readQuery(ctx);
    const limit = q['limit'] ? parseLimit(q['limit']) : DEFAULT_LIMIT;
    const items = await deps.store.listPayouts({
      state: q['state'] ? parsePayoutState(q['state']) : undefined,
      partner: q['partner'] ? parseName(q['partner'], 'partner') : undefined,
      stateSinceBeforeMs: q['olderThan'] ? parseOlderThan(q['olderThan']) : undefined,
      anomalies: parseFlagParam(q['anomalies'], 'anomalies'),
      confirmation: q['confirmation'] ? parseConfirmation(q['confirmation']) : undefined,
      before: q['cursor'] ? parseCursor(q['cursor']) : undefined,
      limit: limit + 1,
    });
    ctx.body = page(ctx, items, limit);
  });

  // A control number may name a payout of several partners: all of them, or ?partner= for one.
  router.get('/payouts/:controlNumber', async (ctx) => {
    const q = readQuery(ctx);
    const partner = q['partner'] ? parseName(q['partner'], 'partner') : undefined;
    const found = await deps.store.getPayouts(ctx.params['controlNumber'] ?? '', partner);
    if (found.length === 0) return notFound(ctx, 'no such payout');
    ctx.type = 'application/json';
    ctx.body = `{"items":[${found.map(stringifyPayoutDetail).join(',')}]}`;
  });

  router.post('/events/:id/replay', async (ctx) => {
    const result = await deps.store.replayEvent(ctx.params['id'] ?? '', deps.plan);
    if (!result) return notFound(ctx, 'no such event');
    answerReplay(ctx, result, deps);
  });

  if (deps.silences) addSilenceRoutes(router, { ...deps.silences, logger: deps.logger });

  return router;
}

function answerReplay(ctx: Koa.Context, result: ReplayResult, deps: AdminDeps): void {
  if (result.requeued.length + result.created.length > 0) deps.onReplayed();
  deps.logger.info(
    { requeued: result.requeued.length, created: result.created.length, skipped: result.skipped.length },
    'admin replay',
  );
  ctx.body = result;
}

/** `?anomalies=true|1`: on; `false|0` or absent: off. */
function parseFlagParam(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '' || value === 'false' || value === '0') return undefined;
  if (value === 'true' || value === '1') return true;
  throw new FilterError(`${name}: expected true or false (got "${value}")`);
}

/** Fetches limit + 1 rows, for page(). */
function readRejectionFilter(q: Record<string, string | undefined>, limit: number): RejectionFilter {
  return {
    reason: q['reason'] ? parseReason(q['reason']) : undefined,
    sinceMs: q['since'] ? parseSince(q['since']) : undefined,
    before: q['cursor'] ? parseCursor(q['cursor']) : undefined,
    limit: limit + 1,
  };
}

function readQuery(ctx: Koa.Context): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(ctx.query)) out[k] = Array.isArray(v) ? v[v.length - 1] : v;
  return out;
}

/** Fetched with limit + 1 rows: the extra one only says a next page exists. */
function page<T extends { id: string }>(
  ctx: Koa.Context,
  rows: T[],
  limit: number,
): { items: T[]; next: string | null } {
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
      if (ctx.status === 404 && ctx.body === undefined) {
        // Explicitly: Koa turns an unset status into 200 when a body is set.
        ctx.status = 404;
        ctx.body = { error: 'no such admin endpoint' };
      }
    } catch (err) {
      ctx.status = statusOfError(err);
      ctx.body = { error: ctx.status === 500 ? 'internal error' : (err as Error).message };
      if (ctx.status === 500) logger.error({ err }, 'admin request failed');
    }
  };
}
