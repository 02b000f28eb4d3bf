import type Koa from 'koa';
import type { IngestStore } from '../store/types';

/** Liveness: the process answers and the database answers a trivial query. */
export function serveHealth(store: IngestStore): Koa.Middleware {
  return async (ctx) => {
    try {
      await store.ping();
      ctx.body = { status: 'ok', database: 'ok', uptimeSeconds: Math.round(process.uptime()) };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'error', database: 'unavailable', uptimeSeconds: Math.round(process.uptime()) };
    }
  };
}
