import Koa from 'koa';
import Router from '@koa/router';
import { ADMIN_PREFIX, guardAdmin } from './admin/router';
import type { AuthGate } from './http/auth-gate';
import { refuseAmbiguousSeparators } from './http/path-guard';
import type { Logger } from './log';
import { UI_PREFIX } from './ui/layout';
import { serveHealth, serveReadiness, type ReadinessDeps } from './http/health';
import type { IngestState } from './ingest/answer';
import { mountCallbackRoute, type CallbackRouteDeps } from './ingest/route';
import type { HealthStore } from './store/store';

/** ctx.state across the app: only the callback route writes to it. */
export type AppState = IngestState;

export interface AppDeps {
  trustProxy: boolean;
  /** server.proxyHops: with trustProxy, the client is the X-Forwarded-For entry this many from the right. */
  proxyHops?: number;
  logger: Logger;
  /**
   * The callback routes (skypay.path, and skypay.financePath taking only financeNotification); none on an instance
   * without the ingest role, whose callback path then answers 404.
   */
  callbacks?: readonly CallbackRouteDeps[];
  /** GET /healthz asks it for a trivial read. */
  health: HealthStore;
  /** GET /readyz; without it only liveness (/healthz) is served. */
  readiness?: ReadinessDeps;
  /** Extra routers (admin API, metrics) mounted by the daemon. */
  routers?: Router[];
  /**
   * Run before any router, in order (the admin and metrics tokens): a guard
   * sees every request, including paths no router would match.
   */
  guards?: Koa.Middleware[];
}

const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Health, the callback route (src/ingest/) and what the daemon adds, in one Koa app. */
export function createApp(deps: AppDeps): Koa<AppState> {
  // Only the right-most proxyHops entries were written by proxies: what is left of them is the client's own text.
  const app = new Koa<AppState>({ proxy: deps.trustProxy, maxIpsCount: deps.proxyHops ?? 1 });
  // An error no route handled: Koa answers it (500 with no internals for anything not meant for the client), and
  // with a listener here it no longer prints to stderr; it is logged like everything else instead of hidden.
  app.on('error', (err: unknown, ctx?: Koa.Context) => {
    const e = err instanceof Error ? err : new Error(String(err));
    const { status, code } = (err ?? {}) as { status?: unknown; code?: unknown };
    const log = { err: { message: e.message, stack: e.stack }, method: ctx?.method, path: ctx?.path, status, code };
    // A client's bad request or dropped connection is the client's, not skyrelay's: worth a line, not an error.
    const clientSide =
      (typeof status === 'number' && status < 500) || (typeof code === 'string' && CONNECTION_CODES.has(code));
    if (clientSide) deps.logger.warn(log, 'request failed');
    else deps.logger.error(log, 'request failed');
  });
  const router = new Router<AppState>();
  router.get('/healthz', serveHealth(deps.health));
  if (deps.readiness) router.get('/readyz', serveReadiness(deps.readiness));
  for (const route of deps.callbacks ?? []) mountCallbackRoute(router, route);

  for (const guard of deps.guards ?? []) app.use(guard);
  app.use(router.routes());
  for (const extra of deps.routers ?? []) app.use(extra.routes()).use(extra.allowedMethods());
  return app;
}

/** What the operator-facing fronts add to the app: each one's guard (run before any route) and router. */
export interface Fronts {
  metrics?: { path: string; guards: Koa.Middleware[]; router: Router } | undefined;
  dashboard?: { guard: Koa.Middleware; router: Router } | undefined;
  admin?: { token: string; router: Router; gate?: AuthGate } | undefined;
  /** Routers mounted after the built-in ones, behind the same guards (embedding, tests). */
  extra?: readonly Router[] | undefined;
}

/**
 * The guards and routers of the fronts, in order: encoded separators refused under every operator prefix first, then
 * the metrics token, the admin token, the dashboard's session; authentication always before routing.
 */
export function mountFronts(fronts: Fronts, logger: Logger): Pick<AppDeps, 'guards' | 'routers'> {
  const { metrics, dashboard, admin } = fronts;
  return {
    guards: [
      refuseAmbiguousSeparators([ADMIN_PREFIX, UI_PREFIX, ...(metrics ? [metrics.path] : [])]),
      ...(metrics?.guards ?? []),
      ...(admin ? [guardAdmin({ token: admin.token, logger, ...(admin.gate ? { gate: admin.gate } : {}) })] : []),
      ...(dashboard ? [dashboard.guard] : []),
    ],
    routers: [metrics?.router, dashboard?.router, admin?.router, ...(fronts.extra ?? [])].filter(
      (r): r is Router => r !== undefined,
    ),
  };
}
