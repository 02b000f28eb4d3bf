import type Router from '@koa/router';
import type Koa from 'koa';
import { SilenceInputError, parseSilence, MAX_AUTHOR_CHARS, type SilenceActor } from '../alerts/silence-input';
import { silenceState } from '../alerts/silence-match';
import type { Logger } from '../log';
import { SilenceEndedError } from '../store/errors';
import type { SilenceStore } from '../store/store';
import type { NewSilence, SilenceView } from '../alerts/types';
import { FilterError, parseCursor, parseLimit } from './filters';

export interface SilenceRoutesDeps {
  store: SilenceStore;
  /** The configured destination names a silence may name. */
  destinations: readonly string[];
  /** silences.maxDurationMs. */
  maxDurationMs: number;
  /** How the admin router authenticated the caller ("admin token 3f9a2c1b"): recorded with what they do. */
  via: string;
  /** After a silence is made or expired here: this process applies it at once instead of at its next refresh. */
  onChanged: () => Promise<void>;
  logger: Logger;
  now?: () => number;
}

const DEFAULT_LIMIT = 50;

/** A silence as the API and the CLI show it: the stored record plus what it is now. */
export function describeSilence(view: SilenceView, now: number): SilenceView & { state: string } {
  return { ...view, state: silenceState(view, now) };
}

/** POST, GET and DELETE /admin/silences, mounted on the admin router (behind its token). */
export function addSilenceRoutes(router: Router, deps: SilenceRoutesDeps): void {
  const now = deps.now ?? Date.now;

  const actorOf = (ctx: Koa.Context): SilenceActor => ({ name: deps.via, via: deps.via, from: ctx.ip || null });

  router.post('/silences', async (ctx) => {
    let silence: NewSilence;
    try {
      const context = { destinations: deps.destinations, now: now(), maxDurationMs: deps.maxDurationMs };
      silence = parseSilence(ctx.request.body, { ...context, actor: actorOf(ctx) });
    } catch (err) {
      if (!(err instanceof SilenceInputError)) throw err;
      ctx.status = 400;
      ctx.body = { error: err.message, problems: err.problems };
      return;
    }
    const view = await deps.store.createSilence(silence);
    await deps.onChanged();
    deps.logger.info(
      { silenceId: view.id, createdBy: view.createdBy, via: view.createdVia, from: view.createdFrom },
      'silence created',
    );
    ctx.status = 201;
    ctx.body = describeSilence(view, now());
  });

  router.get('/silences', async (ctx) => {
    const cursor = lastValue(ctx.query['cursor']);
    const limitText = lastValue(ctx.query['limit']);
    const limit = limitText ? parseLimit(limitText) : DEFAULT_LIMIT;
    const rows = await deps.store.listSilences({ before: cursor ? parseCursor(cursor) : undefined, limit: limit + 1 });
    const at = now();
    const items = rows.slice(0, limit).map((v) => describeSilence(v, at));
    const last = items[items.length - 1];
    let next: string | null = null;
    if (rows.length > limit && last) {
      const params = new URLSearchParams(ctx.querystring);
      params.set('cursor', last.id);
      params.set('limit', String(limit));
      next = `${ctx.path}?${params.toString()}`;
    }
    ctx.body = { items, next };
  });

  router.delete('/silences/:id', async (ctx) => {
    const actor = actorOf(ctx);
    const expiredBy = readExpiredBy(ctx) ?? actor.name;
    try {
      const audit = { via: actor.via, from: actor.from };
      const view = await deps.store.expireSilence(ctx.params['id'] ?? '', expiredBy, now(), audit);
      if (!view) {
        ctx.status = 404;
        ctx.body = { error: 'no such silence' };
        return;
      }
      await deps.onChanged();
      deps.logger.info({ silenceId: view.id, expiredBy, via: actor.via, from: actor.from }, 'silence expired');
      ctx.body = describeSilence(view, now());
    } catch (err) {
      if (!(err instanceof SilenceEndedError)) throw err;
      ctx.status = 409;
      ctx.body = { error: err.message };
    }
  });
}

/**
 * Who ends it, from `?expiredBy=` or a JSON body's `expiredBy`; undefined when neither is given (the credential then
 * names them: the audit has a name either way).
 */
function readExpiredBy(ctx: Koa.Context): string | undefined {
  const body = ctx.request.body as Record<string, unknown> | undefined;
  const value = lastValue(ctx.query['expiredBy']) ?? body?.['expiredBy'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new FilterError('expiredBy: a non-empty name of who expires the silence (or leave it out)');
  }
  if (value.length > MAX_AUTHOR_CHARS) throw new FilterError(`expiredBy: at most ${MAX_AUTHOR_CHARS} characters`);
  return value;
}

function lastValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v;
}
