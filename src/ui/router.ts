import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import type Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import { FilterError, parseName, parseSince, parseState, statusOfError } from '../admin/filters';
import type { DestinationOptions } from '../destinations/options';
import type { DestinationsConfig } from '../destinations/schema';
import { sendTestEvent } from '../destinations/test-event';
import { DeliveryError } from '../destinations/types';
import type { RelayEvent } from '../event';
import { guardPrefix } from '../http/path-guard';
import type { Logger } from '../log';
import type { StuckWaits } from '../payouts/stuck-after';
import { SilenceInputError, MAX_AUTHOR_CHARS, type SilenceActor } from '../alerts/silence-input';
import { fingerprint } from '../http/bearer';
import type { AuthGate } from '../http/auth-gate';
import { ReplayCountChangedError, SilenceEndedError } from '../store/errors';
import type { DashboardStore, InspectStore, PayoutStore, ReplayStore, SilenceStore } from '../store/store';
import type { NewDelivery } from '../delivery/types';
import type { ReplayResult } from '../store/types';
import { html } from './html';
import { errorBox, renderLayout, UI_PREFIX, type Page } from './layout';
import { renderDeliveries, renderReplayConfirmation } from './pages/deliveries';
import { renderDestinations } from './pages/destinations';
import { renderEvent } from './pages/event';
import { ID_PATTERN, renderEvents } from './pages/events';
import { renderOverview, type Readiness } from './pages/overview';
import { renderPayout, renderPayouts } from './pages/payouts';
import { renderRejections } from './pages/rejections';
import { readSilenceForm, renderSilences, toNewSilence } from './pages/silences';
import { renderSignIn } from './pages/sign-in';
import { SESSION_COOKIE, type SessionKeys, type Session } from './session';

export interface DashboardDeps {
  token: string;
  store: InspectStore & ReplayStore & DashboardStore & PayoutStore & SilenceStore;
  destinations: DestinationsConfig;
  /** How Send test builds a destination: as the daemon does. */
  destinationOptions: DestinationOptions;
  plan: (event: RelayEvent) => NewDelivery[];
  /** Wakes the delivery worker after a replay. */
  onReplayed: () => void;
  readiness: () => Readiness;
  logger: Logger;
  /** server.trustProxy: the session cookie is then Secure (TLS ends at the proxy). */
  trustProxy: boolean;
  sessionHours: number;
  timezone: string;
  /** The stuck check's waits per state and partner: what the stuck view and count call stuck. */
  stuckWaits: StuckWaits;
  /** After a silence is made or expired here: this process applies it at once, as the admin API does. */
  onSilencesChanged: () => Promise<void>;
  /** silences.maxDurationMs. */
  silenceMaxDurationMs: number;
  /** Locks out an address that keeps signing in with wrong tokens (shared with /admin and /metrics). */
  gate?: AuthGate;
  now?: () => number;
}

interface UiState {
  session?: Session;
}
type Ctx = Koa.ParameterizedContext<UiState>;

/** A same-site path under /ui to return to: anything else (another host, `//evil`, `\`) becomes /ui. */
export function safeBack(text: string | undefined): string {
  if (text === undefined || !/^\/ui(?:[/?#][^\\\s]*)?$/.test(text) || text.includes('//')) return UI_PREFIX;
  return text;
}

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

function send(ctx: Ctx, page: Page, csrf: string | undefined): void {
  ctx.status = page.status ?? 200;
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.type = 'text/html; charset=utf-8';
  // The live pages refresh by asking for their <main> only (static/app.js).
  if (ctx.get('x-skyrelay-fragment') === 'main') {
    ctx.body = page.body.text;
    return;
  }
  ctx.body = renderLayout(page, { path: ctx.url, ...(csrf === undefined ? {} : { csrf }) });
}

/**
 * Runs before any routing: every path under /ui, in any spelling, needs a valid session, except the routes of the
 * open router (sign-in and its static assets), which answer here, matched as that router matches them (never by
 * reading the path another way: `/ui/payouts/X%2F..%2Fstatic%2Fapp.js` is a payout page, not an asset). Every
 * state-changing request also needs the session's CSRF token. A page asked for without a session is sent to
 * sign-in; anything else gets 401. Errors below /ui are answered as pages.
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
      send(ctx, { title: 'Error', status: code, body: errorBox(message) }, session && keys.csrfToken(session));
    }
  });

  /** No open route took the request: only a session lets it reach the dashboard's router. */
  async function requireSession(ctx: Ctx, next: Koa.Next): Promise<void> {
    const verified = keys.verify(ctx.cookies.get(SESSION_COOKIE), now());
    // Signed but signed out: refused by every process until it would have expired.
    const session = verified && !(await deps.store.isSessionEnded(verified.id)) ? verified : undefined;
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

function readQuery(ctx: Koa.Context): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(ctx.query)) out[k] = Array.isArray(v) ? v[v.length - 1] : v;
  return out;
}

function formOf(ctx: Koa.Context): Record<string, string | string[] | undefined> {
  return (ctx.request.body ?? {}) as Record<string, string | string[] | undefined>;
}

function formText(form: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = form[name];
  const text = Array.isArray(v) ? v[v.length - 1] : v;
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

function setCookie(ctx: Ctx, trustProxy: boolean, value: string, maxAgeSeconds: number): void {
  const secure = ctx.secure || trustProxy ? '; Secure' : '';
  ctx.append(
    'Set-Cookie',
    `${SESSION_COOKIE}=${value}; Path=${UI_PREFIX}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`,
  );
}

/**
 * The routes that need no session, marked open by being here: the sign-in page and the static assets it uses. The
 * guard runs this router before asking for a session, so a path is open only if this router's own matching says so.
 */
export function createOpenDashboardRouter(deps: DashboardDeps, keys: SessionKeys): Router<UiState> {
  const now = deps.now ?? Date.now;
  const router = new Router<UiState>({ strict: true, sensitive: true });
  const assets = loadAssets();
  const lifetimeMs = deps.sessionHours * 3_600_000;

  router.get('/ui/static/:name', (ctx) => {
    const asset = assets.get(ctx.params['name'] ?? '');
    if (!asset) return;
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = asset.body;
  });

  router.get('/ui/sign-in', (ctx) => {
    send(ctx, renderSignIn(safeBack(readQuery(ctx)['next'])), undefined);
  });

  router.post('/ui/sign-in', bodyParser({ enableTypes: ['form'], formLimit: '8kb' }), (ctx) => {
    const form = formOf(ctx);
    const next = safeBack(formText(form, 'next'));
    const tooMany = (seconds: number) => {
      const problem = `Too many wrong tokens from your address: try again in ${seconds} s.`;
      send(ctx, { ...renderSignIn(next, problem), status: 429 }, undefined);
    };
    if (deps.gate && !deps.gate.admit(ctx, 'dashboard', tooMany)) return;
    const token = form['token'];
    if (typeof token !== 'string' || !keys.checkToken(token)) {
      // Logged by the gate, sampled: a guessing flood must not write a line per guess.
      if (deps.gate) {
        if (typeof token === 'string' && token !== '') deps.gate.failed(ctx, 'dashboard');
      } else deps.logger.warn({ remoteAddress: ctx.ip }, 'dashboard sign-in with a wrong token');
      send(ctx, renderSignIn(next, 'That is not the admin token.'), undefined);
      return;
    }
    deps.gate?.succeeded(ctx);
    const { cookie } = keys.issue(now(), lifetimeMs);
    setCookie(ctx, deps.trustProxy, cookie, Math.floor(lifetimeMs / 1000));
    ctx.status = 303;
    ctx.redirect(next);
  });

  return router;
}

/** Every other page: reached only through the guard's session check (and refused here too, should it be skipped). */
export function createDashboardRouter(deps: DashboardDeps, keys: SessionKeys): Router {
  const now = deps.now ?? Date.now;
  const router = new Router<UiState>({ strict: true, sensitive: true });
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
  const page = (ctx: Ctx, p: Page): void => send(ctx, p, csrfOf(ctx));
  const destinationNames = Object.keys(deps.destinations).sort();
  const tokenPrint = fingerprint(deps.token);
  /** Who acts on a silence: the session (its id's fingerprint, never the id) signed in with the admin token. */
  const actorOf = (ctx: Ctx): SilenceActor => {
    const session = ctx.state.session;
    const via = `dashboard session ${session ? fingerprint(session.id) : '?'} (admin token ${tokenPrint})`;
    return { name: via, via, from: ctx.ip || null };
  };

  const afterReplay = (ctx: Ctx, result: ReplayResult, back: string): void => {
    if (result.requeued.length + result.created.length > 0) deps.onReplayed();
    deps.logger.info(
      { requeued: result.requeued.length, created: result.created.length, skipped: result.skipped.length },
      'dashboard replay',
    );
    const url = new URL(safeBack(back), 'http://skyrelay.invalid');
    url.searchParams.set('requeued', String(result.requeued.length));
    url.searchParams.set('created', String(result.created.length));
    url.searchParams.set('skipped', String(result.skipped.length));
    ctx.status = 303;
    ctx.redirect(`${url.pathname}${url.search}${url.hash}`);
  };

  router.post('/ui/sign-out', async (ctx) => {
    const session = ctx.state.session;
    if (session) await deps.store.endSession(session.id, session.expiresMs);
    setCookie(ctx, deps.trustProxy, '', 0);
    ctx.status = 303;
    ctx.redirect('/ui/sign-in');
  });

  router.get('/ui/', (ctx) => {
    ctx.status = 301;
    ctx.redirect('/ui');
  });
  router.get('/ui', async (ctx) => {
    page(
      ctx,
      await renderOverview({
        store: deps.store,
        destinations: destinationNames,
        stuckWaits: deps.stuckWaits,
        readiness: deps.readiness,
        now,
      }),
    );
  });
  router.get('/ui/events', async (ctx) => {
    page(ctx, await renderEvents(deps.store, readQuery(ctx), now()));
  });

  router.get('/ui/events/:id', async (ctx) => {
    const id = ctx.params['id'] ?? '';
    const detail = ID_PATTERN.test(id) ? await deps.store.getEvent(id) : undefined;
    if (!detail) {
      page(ctx, { title: 'No such event', status: 404, body: errorBox('No such event (it may have been pruned).') });
      return;
    }
    page(ctx, renderEvent(detail, readQuery(ctx), csrfOf(ctx), deps.timezone));
  });

  router.post('/ui/events/:id/replay', async (ctx) => {
    const id = ctx.params['id'] ?? '';
    const result = ID_PATTERN.test(id) ? await deps.store.replayEvent(id, deps.plan) : undefined;
    if (!result) {
      page(ctx, { title: 'No such event', status: 404, body: errorBox('No such event.') });
      return;
    }
    afterReplay(ctx, result, `/ui/events/${encodeURIComponent(id)}`);
  });

  router.get('/ui/deliveries', async (ctx) => {
    page(ctx, await renderDeliveries(deps.store, destinationNames, readQuery(ctx), csrfOf(ctx), now()));
  });

  router.post('/ui/deliveries/:id/replay', async (ctx) => {
    const id = ctx.params['id'] ?? '';
    if (!ID_PATTERN.test(id)) throw new FilterError('not a delivery id');
    const result = await deps.store.replayDeliveries([id]);
    afterReplay(ctx, result, formText(formOf(ctx), 'back') ?? '/ui/deliveries');
  });

  router.post('/ui/deliveries/replay', async (ctx) => {
    const form = formOf(ctx);
    const raw = form['id'];
    const ids = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((id) => ID_PATTERN.test(id));
    if (ids.length === 0) throw new FilterError('Select at least one delivery to replay.');
    if (ids.length > 1000) throw new FilterError('At most 1000 deliveries at once.');
    afterReplay(ctx, await deps.store.replayDeliveries(ids), formText(form, 'back') ?? '/ui/deliveries');
  });

  router.post('/ui/deliveries/replay-matching', async (ctx) => {
    const form = formOf(ctx);
    const state = parseState(formText(form, 'state') ?? 'dead');
    if (state !== 'dead' && state !== 'delivered')
      throw new FilterError('state: only dead or delivered deliveries can be replayed');
    const destinationText = formText(form, 'destination');
    const destination = destinationText === undefined ? undefined : parseName(destinationText, 'destination');
    const since = formText(form, 'since');
    const sinceMs = since === undefined ? undefined : parseSince(since, now());
    if (state === 'delivered' && destination === undefined && sinceMs === undefined) {
      throw new FilterError(
        'Replaying delivered deliveries needs a destination or a since: they were all received once already.',
      );
    }
    const filter = { state, destination, sinceMs };
    const shown = { state, destination, since };
    const confirmText = formText(form, 'confirm');
    if (confirmText === undefined) {
      page(ctx, renderReplayConfirmation(shown, await deps.store.countReplayable(filter), csrfOf(ctx)));
      return;
    }
    if (!/^\d{1,9}$/.test(confirmText)) throw new FilterError('confirm: expected the count shown');
    const confirm = Number(confirmText);
    try {
      const result = await deps.store.replayMatching({ ...filter, confirm });
      const back = `/ui/deliveries?state=${state}${destination ? `&destination=${encodeURIComponent(destination)}` : ''}`;
      afterReplay(ctx, result, back);
    } catch (err) {
      if (!(err instanceof ReplayCountChangedError)) throw err;
      page(ctx, { ...renderReplayConfirmation(shown, err.count, csrfOf(ctx), confirm), status: 409 });
    }
  });

  router.get('/ui/rejections', async (ctx) => {
    page(ctx, await renderRejections(deps.store, readQuery(ctx), now()));
  });

  router.get('/ui/payouts', async (ctx) => {
    page(ctx, await renderPayouts(deps.store, readQuery(ctx), now(), deps.stuckWaits));
  });

  router.get('/ui/payouts/:controlNumber', async (ctx) => {
    page(ctx, await renderPayout(deps.store, ctx.params['controlNumber'] ?? '', readQuery(ctx), now()));
  });

  const silencesPage = (ctx: Ctx, extra: Partial<Parameters<typeof renderSilences>[0]> = {}) =>
    renderSilences({
      store: deps.store,
      destinations: destinationNames,
      q: readQuery(ctx),
      csrf: csrfOf(ctx),
      now: now(),
      ...extra,
    });

  router.get('/ui/silences', async (ctx) => {
    page(ctx, await silencesPage(ctx));
  });

  router.post('/ui/silences', async (ctx) => {
    const form = readSilenceForm(formOf(ctx));
    let silence;
    try {
      silence = toNewSilence(form, {
        destinations: destinationNames,
        now: now(),
        maxDurationMs: deps.silenceMaxDurationMs,
        actor: actorOf(ctx),
      });
    } catch (err) {
      if (!(err instanceof SilenceInputError)) throw err;
      page(ctx, await silencesPage(ctx, { q: {}, form, problems: err.problems, status: 400 }));
      return;
    }
    const view = await deps.store.createSilence(silence);
    await deps.onSilencesChanged();
    deps.logger.info(
      { silenceId: view.id, createdBy: view.createdBy, via: view.createdVia, from: view.createdFrom },
      'dashboard: silence created',
    );
    ctx.status = 303;
    ctx.redirect(`/ui/silences?created=${encodeURIComponent(view.id)}`);
  });

  router.post('/ui/silences/:id/expire', async (ctx) => {
    const id = ctx.params['id'] ?? '';
    const actor = actorOf(ctx);
    const expiredBy = formText(formOf(ctx), 'expiredBy') ?? actor.name;
    const refuse = async (status: number, problem: string) =>
      page(ctx, await silencesPage(ctx, { q: {}, problem, status }));
    if (!ID_PATTERN.test(id)) return refuse(404, 'No such silence.');
    if (expiredBy.length > MAX_AUTHOR_CHARS) {
      return refuse(400, `Expiring ${id}: the name is at most ${MAX_AUTHOR_CHARS} characters.`);
    }
    let view;
    try {
      view = await deps.store.expireSilence(id, expiredBy, now(), { via: actor.via, from: actor.from });
    } catch (err) {
      if (!(err instanceof SilenceEndedError)) throw err;
      return refuse(409, err.message);
    }
    if (!view) return refuse(404, 'No such silence.');
    await deps.onSilencesChanged();
    deps.logger.info({ silenceId: view.id, expiredBy, via: actor.via, from: actor.from }, 'dashboard: silence expired');
    ctx.status = 303;
    ctx.redirect(`/ui/silences?expired=${encodeURIComponent(view.id)}`);
  });

  router.get('/ui/destinations', async (ctx) => {
    page(ctx, await renderDestinations(deps.store, deps.destinations, csrfOf(ctx)));
  });

  router.post('/ui/destinations/:name/test', async (ctx) => {
    const name = ctx.params['name'] ?? '';
    const config = Object.hasOwn(deps.destinations, name) ? deps.destinations[name] : undefined;
    if (!config) {
      page(ctx, { title: 'No such destination', status: 404, body: errorBox('No such destination.') });
      return;
    }
    let result;
    try {
      const sent = await sendTestEvent(name, config, deps.destinationOptions);
      const answer = sent.status === undefined ? 'accepted' : `HTTP ${sent.status}`;
      result = html`<p class="notice" role="status">
        Sent a sample event to ${name} in ${sent.ms} ms (delivery id ${sent.deliveryId}). The receiver answered
        ${answer}${sent.response ? html`: <q class="snippet">${sent.response}</q>` : ''}.
      </p>`;
    } catch (err) {
      if (!(err instanceof DeliveryError)) throw err;
      // Destinations scrub their own secrets out of these messages.
      result = errorBox(`Sending to ${name} failed: ${err.message}`);
    }
    deps.logger.info({ destination: name }, 'dashboard test-destination');
    page(ctx, await renderDestinations(deps.store, deps.destinations, csrfOf(ctx), result));
  });

  return router;
}
