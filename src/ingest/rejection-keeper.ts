import type { Logger } from '../log';
import type { IngestStore } from '../store/store';
import type { NewRejection } from '../store/types';
import { RejectionSampler } from './rejection-sampler';

export interface RejectionKeeperOptions {
  store: IngestStore;
  logger: Logger;
  /** store.maxRejectionsPerMinute: rows kept per (reason, remote address) per minute. */
  perMinute: number;
  flushIntervalMs?: number;
  maxSources?: number;
}

export interface RejectionKeeper {
  keep(rejection: NewRejection): boolean;
  /** Writes the counts still pending; call before the store closes. */
  stop(): Promise<void>;
}

/**
 * Caps the rows a rejection flood leaves in `rejections` (RejectionSampler) and
 * writes what it only counted every few seconds, one small transaction for
 * all of them, so a flood costs no write per request.
 */
export function startRejectionKeeper(options: RejectionKeeperOptions): RejectionKeeper {
  const sampler = new RejectionSampler({
    perWindow: options.perMinute,
    windowMs: 60_000,
    maxSources: options.maxSources ?? 10_000,
  });
  const flush = async (): Promise<void> => {
    const { counts, overflowed } = sampler.drain(Date.now());
    if (overflowed > 0) {
      options.logger.warn(
        { rejections: overflowed },
        'rejected callbacks from too many sources at once were counted, not kept',
      );
    }
    try {
      await options.store.addSuppressed(counts);
    } catch (err) {
      options.logger.error(
        { err: { message: (err as Error).message } },
        'could not count rejected callbacks that were not kept',
      );
    }
  };
  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 5_000);
  timer.unref();
  return {
    keep: (r) => sampler.admit(r.reason, r.remoteAddress, r.id, r.receivedAt.getTime()),
    stop: async () => {
      clearInterval(timer);
      await flush();
    },
  };
}
