import type { Logger } from '../log';
import type { IngestStore } from '../store/store';
import type { NewRejection } from '../store/types';
import { RefusalSampler } from './refusal-sampler';

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
 * Caps the rows a refusal flood leaves in `rejections` (RefusalSampler) and
 * writes what it only counted every few seconds, one small transaction for
 * all of them, so a flood costs no write per request.
 */
export function startRejectionKeeper(options: RejectionKeeperOptions): RejectionKeeper {
  const sampler = new RefusalSampler({
    perWindow: options.perMinute,
    windowMs: 60_000,
    maxSources: options.maxSources ?? 10_000,
  });
  const flush = async (): Promise<void> => {
    const { counts, overflowed } = sampler.drain(Date.now());
    if (overflowed > 0) {
      options.logger.warn(
        { refusals: overflowed },
        'refused callbacks from too many sources at once were counted, not kept',
      );
    }
    try {
      await options.store.addSuppressed(counts);
    } catch (err) {
      options.logger.error(
        { err: { message: (err as Error).message } },
        'could not count refused callbacks that were not kept',
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
