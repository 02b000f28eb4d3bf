import type Koa from 'koa';
import { DatabaseLostError } from '../store/errors';
import type { HealthStore } from '../store/store';

/** Liveness: the process answers and the database answers a trivial query. */
export function serveHealth(store: HealthStore): Koa.Middleware {
  return async (ctx) => {
    try {
      await store.ping();
      ctx.body = { status: 'ok', database: 'ok', uptimeSeconds: Math.round(process.uptime()) };
    } catch (err) {
      ctx.status = 503;
      // A lost file is not transient: liveness says so, naming it, so an operator looks.
      const database = err instanceof DatabaseLostError ? err.message : 'unavailable';
      ctx.body = { status: 'error', database, uptimeSeconds: Math.round(process.uptime()) };
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
  /** Why the database file is no longer the one opened (removed, replaced), if it is not. */
  databaseLost?: () => string | undefined;
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
    const lost = deps.databaseLost?.();
    if (lost !== undefined) {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', database: lost };
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

/** Readiness as a store tells it: its last write failure, a probe write, a lost database. */
export function storeReadiness(
  store: Pick<HealthStore, 'lastWriteFailure' | 'probeWrite' | 'lostReason'>,
  lifecycle: () => Lifecycle,
): ReadinessDeps {
  return {
    lifecycle,
    lastWriteFailure: () => store.lastWriteFailure,
    probeWrite: () => store.probeWrite(),
    databaseLost: () => store.lostReason,
  };
}

/** Readiness as the dashboard's overview shows it: why not ready, if not. */
export function describeReadiness(
  lifecycle: Lifecycle,
  store: Pick<HealthStore, 'lastWriteFailure' | 'lostReason'> | undefined,
): { ready: boolean; reason: string | undefined } {
  const reason = lifecycle !== 'ready' ? lifecycle : (store?.lostReason ?? store?.lastWriteFailure ?? undefined);
  return { ready: reason === undefined, reason };
}
