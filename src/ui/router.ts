import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import type Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import { statusOfError } from '../admin/error-status';
import { guardPrefix } from '../http/path-guard';
import { errorBox, UI_PREFIX } from './layout';
import { deliveriesRoutes } from './pages/deliveries';
import { destinationsRoutes } from './pages/destinations';
import { eventRoutes } from './pages/event';
import { eventsRoutes } from './pages/events';
import { ledgerRoutes } from './pages/ledger';
import { overviewRoutes } from './pages/overview';
import { payoutRoutes } from './pages/payout';
import { payoutsRoutes } from './pages/payouts';
import { rejectionsRoutes } from './pages/rejections';
import { addSignInRoutes, signOutRoutes } from './pages/sign-in';
import { silencesRoutes } from './pages/silences';
import {
  safeBack,
  send,
  type Ctx,
  type DashboardDeps,
  type DashboardRouter,
  type PageRoutes,
  type UiState,
} from './respond';
import { SESSION_COOKIE, type SessionKeys } from './session';

export { safeBack, type DashboardDeps } from './respond';

/** Every page behind the session, each module adding its own routes: adding a page is a module and a line here. */
const PAGES: readonly PageRoutes[] = [
  signOutRoutes,
  overviewRoutes,
  eventsRoutes,
  eventRoutes,
  deliveriesRoutes,
  rejectionsRoutes,
  payoutsRoutes,
  payoutRoutes,
  silencesRoutes,
  destinationsRoutes,
  ledgerRoutes,
];

/**
 * Runs before any routing: every path under /ui, in any spelling, needs a valid session, except the routes of the
 * open router (sign-in and its static assets), which answer here, matched as that router matches them (never by
 * reading the path another way: `/ui/payouts/X%2F..%2Fstatic%2Fapp.js` is a payout page, not an asset). Every
 * state-changing request also needs the session's CSRF token. A page asked for without a session is sent to
 * sign-in; anything else gets 401. Errors below /ui are answered as pages, their status from their type.
 */
export function guardDashboard(deps: DashboardDeps, keys: SessionKeys, open: Router<UiState>): Koa.Middleware {
  const now = deps.now ?? Date.now;
  const parseForm = bodyParser({ enableTypes: ['form'], formLimit: '64kb' });
  const openRoutes = open.routes() as unknown as Koa.Middleware<UiState>;
  return guardPrefix(UI_PREFIX, async (ctx: Ctx, next) => {
    try {
      await openRoutes(ctx, () => requireSession(ctx, next));
    } catch (err) {
      const code = statusOfError(err);
      if (code === 500) deps.logger.error({ err }, 'dashboard request failed');
      const message =
        code === 500
          ? 'Internal error (logged).'
          : code === 503
            ? 'The database is not answering; try again shortly.'
            : (err as Error).message;
      const session = ctx.state.session;
      const title = code === 404 ? 'Not found' : 'Error';
      send(ctx, { title, status: code, body: errorBox(message) }, session && keys.csrfToken(session));
    }
  });

  /** No open route took the request: only a session lets it reach the dashboard's router. */
  async function requireSession(ctx: Ctx, next: Koa.Next): Promise<void> {
    const verified = keys.verify(ctx.cookies.get(SESSION_COOKIE), now());
    // Signed but signed out: refused by every process until it would have expired.
    const ended = verified && (await deps.operations.dashboard.isSessionEnded(verified.id));
    const session = verified && !ended ? verified : undefined;
    const reading = ctx.method === 'GET' || ctx.method === 'HEAD';
    if (!session) {
      if (reading && ctx.get('x-skyrelay-fragment') === '') {
        ctx.redirect(`/ui/sign-in?next=${encodeURIComponent(safeBack(ctx.originalUrl))}`);
        ctx.status = 303;
      } else {
        ctx.status = 401;
        ctx.type = 'text/plain';
        ctx.body = 'sign in at /ui/sign-in first';
      }
      return;
    }
    ctx.state.session = session;
    if (!reading) {
      await parseForm(ctx, () => Promise.resolve());
      const form = (ctx.request.body ?? {}) as Record<string, unknown>;
      const presented = typeof form['_csrf'] === 'string' ? form['_csrf'] : ctx.get('x-csrf-token') || undefined;
      if (!keys.checkCsrf(session, presented)) {
        send(
          ctx,
          {
            title: 'Refused',
            status: 403,
            body: errorBox('This request did not carry the page’s CSRF token; nothing was done. Reload the page.'),
          },
          keys.csrfToken(session),
        );
        return;
      }
    }
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      send(ctx, { title: 'Not found', status: 404, body: errorBox('No such page.') }, keys.csrfToken(session));
    }
  }
}

function loadAssets(): Map<string, { type: string; body: Buffer }> {
  const dir = path.join(__dirname, 'static');
  // tsc does not copy them: npm run build (and build:test) does.
  if (!fs.existsSync(dir)) throw new Error(`dashboard assets missing at ${dir}: run npm run build`);
  const types: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
  const assets = new Map<string, { type: string; body: Buffer }>();
  for (const name of fs.readdirSync(dir)) {
    const type = types[path.extname(name)];
    if (type) assets.set(name, { type, body: fs.readFileSync(path.join(dir, name)) });
  }
  return assets;
}

/**
 * The routes that need no session, marked open by being here: the sign-in page and the static assets it uses. The
 * guard runs this router before asking for a session, so a path is open only if this router's own matching says so.
 */
export function createOpenDashboardRouter(deps: DashboardDeps, keys: SessionKeys): Router<UiState> {
  const router: DashboardRouter = new Router<UiState>({ strict: true, sensitive: true });
  const assets = loadAssets();

  router.get('/ui/static/:name', (ctx) => {
    const asset = assets.get(ctx.params['name'] ?? '');
    if (!asset) return;
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = asset.body;
  });
  addSignInRoutes(router, deps, keys);
  return router;
}

/** Every other page: reached only through the guard's session check (and refused here too, should it be skipped). */
export function createDashboardRouter(deps: DashboardDeps, keys: SessionKeys): Router {
  const router: DashboardRouter = new Router<UiState>({ strict: true, sensitive: true });
  router.use((ctx, next) => {
    if (ctx.state.session) return next();
    ctx.status = 401;
    ctx.type = 'text/plain';
    ctx.body = 'sign in at /ui/sign-in first';
    return undefined;
  });
  const csrfOf = (ctx: Ctx): string => {
    const session = ctx.state.session;
    if (!session) throw new Error('dashboard route reached without a session');
    return keys.csrfToken(session);
  };
  const context = {
    deps,
    now: deps.now ?? Date.now,
    destinationNames: Object.keys(deps.destinations).sort(),
    csrfOf,
    page: (ctx: Ctx, page: Parameters<typeof send>[1]) => send(ctx, page, csrfOf(ctx)),
  };
  for (const add of PAGES) add(router, context);
  return router;
}
