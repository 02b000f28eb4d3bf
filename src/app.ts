import Koa from 'koa';
import Router from '@koa/router';
import bodyParser from 'koa-bodyparser';
import { MethodNotAllowedError } from './errors';
import { BodyBudget, parseSize, readBodyWithin } from './http/body';
import { requireCallbackContentType } from './http/content-type';
import { serveHealth, serveReadiness, type ReadinessDeps } from './http/health';
import { handleCallbackOutcome, type RefusalDeps } from './http/refusals';
import { createReceiveHandler, type ReceiveDeps } from './skypay/receive';
import type { HealthStore } from './store/store';

export interface AppDeps {
  callbackPath: string;
  bodyLimit: string;
  /** server.bodyTimeoutMs and server.maxBodyMemory (see http/body.ts). */
  bodyTimeoutMs: number;
  maxBodyMemory: string;
  trustProxy: boolean;
  receive: ReceiveDeps;
  refusals: RefusalDeps;
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

/** Wires the stages into Koa; each stage lives in its own module. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: deps.trustProxy });
  // Errors outside the callback route are still never shown to clients with internals.
  app.silent = true;
  const router = new Router();
  const parseBody = bodyParser({
    enableTypes: ['json', 'text'],
    jsonLimit: deps.bodyLimit,
    textLimit: deps.bodyLimit,
    strict: true,
  });

  router.get('/healthz', serveHealth(deps.health));
  if (deps.readiness) router.get('/readyz', serveReadiness(deps.readiness));
  router.post(
    deps.callbackPath,
    handleCallbackOutcome(deps.refusals),
    requireCallbackContentType(),
    readBodyWithin(parseBody, {
      limitBytes: parseSize(deps.bodyLimit),
      timeoutMs: deps.bodyTimeoutMs,
      budget: new BodyBudget(parseSize(deps.maxBodyMemory)),
    }),
    createReceiveHandler(deps.receive),
  );
  router.all(deps.callbackPath, handleCallbackOutcome(deps.refusals), async (ctx) => {
    throw new MethodNotAllowedError(`${ctx.method} is not allowed here; SkyPay callbacks are POSTed`);
  });

  for (const guard of deps.guards ?? []) app.use(guard);
  app.use(router.routes());
  for (const extra of deps.routers ?? []) app.use(extra.routes()).use(extra.allowedMethods());
  return app;
}
