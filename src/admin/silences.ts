import type Router from '@koa/router';
import type Koa from 'koa';
import { parseSilence, type SilenceActor } from '../alerts/silence-input';
import { FilterError } from '../operations/errors';
import { parseCursor } from '../operations/filters';
import type { SilenceOperations } from '../operations/silences';
import { linked, readLimit, readQuery } from './query';

/**
 * POST, GET and DELETE /admin/silences, mounted on the admin router (behind its token). `via` is how that router
 * authenticated the caller ("admin token 3f9a2c1b"): recorded with what they do.
 */
export function addSilenceRoutes(router: Router, silences: SilenceOperations, via: string): void {
  const actorOf = (ctx: Koa.Context): SilenceActor => ({ name: via, via, from: ctx.ip || null });

  router.post('/silences', async (ctx) => {
    const body: unknown = ctx.request.body;
    const made = await silences.create(actorOf(ctx), (context) => parseSilence(body, context));
    ctx.status = 201;
    ctx.body = made;
  });

  router.get('/silences', async (ctx) => {
    const q = readQuery(ctx);
    ctx.body = linked(ctx, await silences.list(readLimit(q), q['cursor'] ? parseCursor(q['cursor']) : undefined));
  });

  router.delete('/silences/:id', async (ctx) => {
    ctx.body = await silences.expire(ctx.params['id'] ?? '', actorOf(ctx), readExpiredBy(ctx));
  });
}

/**
 * Who ends it, from `?expiredBy=` or a JSON body's `expiredBy`; undefined when neither is given (the credential then
 * names them: the audit has a name either way).
 */
function readExpiredBy(ctx: Koa.Context): string | undefined {
  const body = ctx.request.body as Record<string, unknown> | undefined;
  const value = lastValue(ctx.query['expiredBy']) ?? body?.['expiredBy'];
  if (value !== undefined && typeof value !== 'string') {
    throw new FilterError('expiredBy: expected a name, as text');
  }
  return value;
}

function lastValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v;
}
