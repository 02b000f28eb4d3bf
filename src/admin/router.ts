import Router from '@koa/router';
import type Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import type { Logger } from '../log';
import { guardPrefix } from '../http/path-guard';
import type { AuthGate } from '../http/auth-gate';
import { statusOfError } from './error-status';
import type { Operations } from '../operations';
import { ConfirmationNeededError, FilterError, ReplayCountChangedError, SilenceInputError } from '../operations/errors';
import {
  checkRejectionFilters,
  parseEventType,
  parseCursor,
  parseName,
  parseOlderThan,
  parsePayoutState,
  parseConfirmation,
  parseReason,
  parseSince,
  parseState,
  parseStatus,
} from '../operations/filters';
import { NotReplayedError } from '../operations/replay';
import { stringifyEventDetail, stringifyPayoutDetail, type RejectionFilter } from '../operations/views';
import { ADMIN_BEARER, fingerprint, requireBearerToken } from '../http/bearer';
import { linked, readLimit, readQuery } from './query';
import { addDestinationRoutes } from './destinations';
import { addSilenceRoutes } from './silences';
import { addHoldRoutes } from './holds';

export interface AdminDeps {
  token: string;
  operations: Pick<Operations, 'queries' | 'replays' | 'holds' | 'silences' | 'ledger' | 'destinations'>;
  /** How this router authenticates its caller ("admin token 3f9a2c1b"): recorded with the silences they make or end. */
  via: string;
}

export const ADMIN_PREFIX = '/admin';

/**
 * Runs before any routing (see createApp's guards): every path under /admin,
 * in any spelling and whether or not a route exists for it, needs the token;
 * only then does the strict, case-sensitive router decide between an answer
 * and a 404. Errors and 404s below /admin are answered as JSON.
 */
export function guardAdmin(deps: { token: string; logger: Logger; gate?: AuthGate }): Koa.Middleware {
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
  const { queries, replays } = deps.operations;

  router.get('/events', async (ctx) => {
    const q = readQuery(ctx);
    const limit = readLimit(q);
    const type = q['type'] ? parseEventType(q['type']) : undefined;
    if (type === 'rejection') {
      checkRejectionFilters({ controlNumber: q['controlNumber'] || undefined, status: q['status'] || undefined });
      ctx.body = linked(ctx, await queries.listRejections(readRejectionFilter(q), limit));
      return;
    }
    const filter = {
      controlNumber: q['controlNumber'] ? parseName(q['controlNumber'], 'controlNumber') : undefined,
      status: q['status'] ? parseStatus(q['status']) : undefined,
      type,
      sinceMs: q['since'] ? parseSince(q['since']) : undefined,
      before: q['cursor'] ? parseCursor(q['cursor']) : undefined,
    };
    ctx.body = linked(ctx, await queries.listEvents(filter, limit));
  });

  router.get('/rejections', async (ctx) => {
    const q = readQuery(ctx);
    ctx.body = linked(ctx, await queries.listRejections(readRejectionFilter(q), readLimit(q)));
  });

  router.get('/events/:id', async (ctx) => {
    ctx.type = 'application/json';
    ctx.body = stringifyEventDetail(await queries.getEvent(ctx.params['id'] ?? ''));
  });

  router.get('/deliveries', async (ctx) => {
    const q = readQuery(ctx);
    const filter = {
      state: q['state'] ? parseState(q['state']) : undefined,
      destination: q['destination'] ? parseName(q['destination'], 'destination') : undefined,
      sinceMs: q['since'] ? parseSince(q['since']) : undefined,
      held: parseFlagParam(q['held'], 'held'),
      before: q['cursor'] ? parseCursor(q['cursor']) : undefined,
    };
    ctx.body = linked(ctx, await queries.listDeliveries(filter, readLimit(q)));
  });

  router.post('/deliveries/:id/replay', async (ctx) => {
    ctx.body = await replays.replayDelivery(ctx.params['id'] ?? '');
  });

  router.post('/replay', async (ctx) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    ctx.body = await replays.replayMatching({
      state: typeof body['state'] === 'string' ? parseState(body['state']) : 'dead',
      destination: typeof body['destination'] === 'string' ? parseName(body['destination'], 'destination') : undefined,
      sinceMs: typeof body['since'] === 'string' ? parseSince(body['since']) : undefined,
      confirm: body['confirm'],
    });
  });

  router.post('/events/:id/replay', async (ctx) => {
    ctx.body = await replays.replayEvent(ctx.params['id'] ?? '');
  });

  addPayoutRoutes(router, deps.operations);
  addSilenceRoutes(router, deps.operations.silences, deps.via);
  addDestinationRoutes(router, deps.operations.destinations, deps.via);
  addHoldRoutes(router, deps.operations.holds);

  return router;
}

/** Payouts and the day's ledger: what the payments team asks of payouts rather than of deliveries. */
function addPayoutRoutes(router: Router, operations: Pick<Operations, 'queries' | 'ledger'>): void {
  const { queries } = operations;
  router.get('/payouts', async (ctx) => {
    const q = readQuery(ctx);
    const filter = {
      state: q['state'] ? parsePayoutState(q['state']) : undefined,
      partner: q['partner'] ? parseName(q['partner'], 'partner') : undefined,
      stateSinceBeforeMs: q['olderThan'] ? parseOlderThan(q['olderThan']) : undefined,
      anomalies: parseFlagParam(q['anomalies'], 'anomalies'),
      confirmation: q['confirmation'] ? parseConfirmation(q['confirmation']) : undefined,
      before: q['cursor'] ? parseCursor(q['cursor']) : undefined,
    };
    ctx.body = linked(ctx, await queries.listPayouts(filter, readLimit(q)));
  });

  // A control number may name a payout of several partners: all of them, or ?partner= for one.
  router.get('/payouts/:controlNumber', async (ctx) => {
    const q = readQuery(ctx);
    const partner = q['partner'] ? parseName(q['partner'], 'partner') : undefined;
    const found = await queries.getPayouts(ctx.params['controlNumber'] ?? '', partner);
    ctx.type = 'application/json';
    ctx.body = `{"items":[${found.map(stringifyPayoutDetail).join(',')}]}`;
  });

  // A day's ledger (?day=YYYY-MM-DD in skypay.timezone, default yesterday; ?partner=): the object `skyrelay ledger
  // --json` prints. Not balanced is still an answer (200); `balanced` says which.
  router.get('/ledger', async (ctx) => {
    const q = readQuery(ctx);
    ctx.body = await operations.ledger.compute({
      day: q['day'] || undefined,
      partner: q['partner'] ? parseName(q['partner'], 'partner') : undefined,
    });
  });
}

/** `?anomalies=true|1`: on; `false|0` or absent: off. */
function parseFlagParam(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '' || value === 'false' || value === '0') return undefined;
  if (value === 'true' || value === '1') return true;
  throw new FilterError(`${name}: expected true or false (got "${value}")`);
}

function readRejectionFilter(q: Record<string, string | undefined>): Omit<RejectionFilter, 'limit'> {
  return {
    reason: q['reason'] ? parseReason(q['reason']) : undefined,
    sinceMs: q['since'] ? parseSince(q['since']) : undefined,
    before: q['cursor'] ? parseCursor(q['cursor']) : undefined,
  };
}

/** What a refusal answers besides its message: the count to confirm, a silence's problems, a replay's result. */
function detailsOf(err: unknown): Record<string, unknown> {
  if (err instanceof ConfirmationNeededError) {
    const { count } = err;
    return {
      error: `this would requeue ${count} delivered deliveries; send the same request with "confirm": ${count}`,
      count,
    };
  }
  if (err instanceof ReplayCountChangedError) {
    return { error: `${err.message}; confirm ${err.count} to replay them`, count: err.count };
  }
  if (err instanceof SilenceInputError) return { problems: err.problems };
  if (err instanceof NotReplayedError) return { ...err.result };
  return {};
}

/** Every error below /admin, in one place: its status from its type, its message and details as JSON. */
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
      if (ctx.status === 500) {
        ctx.body = { error: 'internal error' };
        logger.error({ err }, 'admin request failed');
        return;
      }
      ctx.body = { error: (err as Error).message, ...detailsOf(err) };
    }
  };
}

/** The admin API as a front of the daemon (with admin.token): its router and the token its guard checks. */
export function adminFront(token: string | undefined, operations: Operations, gate?: AuthGate) {
  if (token === undefined) return undefined;
  const router = createAdminRouter({ token, operations, via: `admin token ${fingerprint(token)}` });
  return { token, router, ...(gate ? { gate } : {}) };
}
