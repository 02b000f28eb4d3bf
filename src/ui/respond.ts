import type Router from '@koa/router';
import type Koa from 'koa';
import type { Operations } from '../operations';
import type { ReplayResult } from '../operations/views';
import type { DestinationsConfig } from '../destinations/schema';
import type { AuthGate } from '../http/auth-gate';
import type { Logger } from '../log';
import type { StuckWaits } from '../payouts/stuck-after';
import { renderLayout, UI_PREFIX, type Page } from './layout';
import { SESSION_COOKIE, type Session } from './session';

export interface Readiness {
  ready: boolean;
  /** Why not, in an operator's words (starting, draining, the database's failure). */
  reason?: string | undefined;
}

export interface DashboardDeps {
  token: string;
  operations: Pick<
    Operations,
    'queries' | 'replays' | 'silences' | 'dashboard' | 'sendTest' | 'ledger' | 'destinations'
  >;
  /** The configured destinations: their names and kinds, and which can be sent a test. */
  destinations: DestinationsConfig;
  readiness: () => Readiness;
  logger: Logger;
  /** server.trustProxy: the session cookie is then Secure (TLS ends at the proxy). */
  trustProxy: boolean;
  sessionHours: number;
  timezone: string;
  /** The stuck check's waits per state and partner: what the stuck view and count call stuck. */
  stuckWaits: StuckWaits;
  /** Locks out an address that keeps signing in with wrong tokens (shared with /admin and /metrics). */
  gate?: AuthGate;
  now?: () => number;
}

export interface UiState {
  session?: Session;
}
export type Ctx = Koa.ParameterizedContext<UiState>;
export type DashboardRouter = Router<UiState>;

/** What a page's routes are given: the dashboard's dependencies and how to answer with a page. */
export interface PageContext {
  deps: DashboardDeps;
  now: () => number;
  /** The configured destination names, sorted. */
  destinationNames: readonly string[];
  /** The CSRF token of the request's session, for the page's forms. */
  csrfOf(ctx: Ctx): string;
  /** Answers with the page in the layout (signed in: nav and sign-out). */
  page(ctx: Ctx, page: Page): void;
}

/** A page module's routes, added to the dashboard's router. */
export type PageRoutes = (router: DashboardRouter, context: PageContext) => void;

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

export function send(ctx: Ctx, page: Page, csrf: string | undefined): void {
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

export function readQuery(ctx: Koa.Context): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(ctx.query)) out[k] = Array.isArray(v) ? v[v.length - 1] : v;
  return out;
}

export type Form = Record<string, string | string[] | undefined>;

export function formOf(ctx: Koa.Context): Form {
  return (ctx.request.body ?? {}) as Form;
}

/** A form field's last value, trimmed; undefined when absent or blank. */
export function formText(form: Form, name: string): string | undefined {
  const v = form[name];
  const text = Array.isArray(v) ? v[v.length - 1] : v;
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

export function setCookie(ctx: Ctx, trustProxy: boolean, value: string, maxAgeSeconds: number): void {
  const secure = ctx.secure || trustProxy ? '; Secure' : '';
  ctx.append(
    'Set-Cookie',
    `${SESSION_COOKIE}=${value}; Path=${UI_PREFIX}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`,
  );
}

/** Back to the page the replay was asked on, which shows what it did (replayNotice). */
export function redirectAfterReplay(ctx: Ctx, result: ReplayResult, back: string): void {
  const url = new URL(safeBack(back), 'http://skyrelay.invalid');
  url.searchParams.set('requeued', String(result.requeued.length));
  url.searchParams.set('created', String(result.created.length));
  url.searchParams.set('skipped', String(result.skipped.length));
  ctx.status = 303;
  ctx.redirect(`${url.pathname}${url.search}${url.hash}`);
}
