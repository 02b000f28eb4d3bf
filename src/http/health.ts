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

export type Lifecycle = 'idle' | 'starting' | 'ready' | 'draining' | 'stopped';

export interface ReadinessDeps {
  lifecycle: () => Lifecycle;
  /** The store's last write failure, if the last write failed. */
  lastWriteFailure: () => string | undefined;
  /** A small write that clears the failure when it commits. */
  probeWrite: () => Promise<void>;
}

/**
 * Readiness: take callbacks only when started, not draining, and able to
 * write. After a failed write a probe decides, so readiness comes back when
 * the disk does, even with no traffic to prove it.
 */
export function serveReadiness(deps: ReadinessDeps): Koa.Middleware {
  return async (ctx) => {
    const state = deps.lifecycle();
    if (state !== 'ready') {
      ctx.status = 503;
      ctx.body = { status: state === 'draining' || state === 'stopped' ? 'draining' : 'starting' };
      return;
    }
    if (deps.lastWriteFailure() !== undefined) {
      try {
        await deps.probeWrite();
      } catch {
        ctx.status = 503;
        ctx.body = { status: 'unavailable', database: deps.lastWriteFailure() ?? 'write failed' };
        return;
      }
    }
    ctx.body = { status: 'ready' };
  };
}
