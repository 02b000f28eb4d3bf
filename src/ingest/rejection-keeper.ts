import type { Config } from '../config/schema';
import type { Logger } from '../log';
import type { IngestStore } from '../store/store';
import type { NewRejection } from './types';
import { addressBlock } from './address-block';
import { RejectionSampler } from './rejection-sampler';

export interface RejectionKeeperOptions {
  store: IngestStore;
  logger: Logger;
  /** store.maxRejectionsPerMinute: rows kept per reason and address block (IPv4 /24, IPv6 /64) per minute. */
  perMinute: number;
  /** store.maxRejectionsPerMinuteTotal: rows kept per minute across all addresses, by all processes together. */
  totalPerMinute: number;
  flushIntervalMs?: number;
  maxSources?: number;
}

export interface RejectionKeeper {
  keep(rejection: NewRejection): Promise<boolean>;
  /** Writes the counts still pending; call before the store closes. */
  stop(): Promise<void>;
}

const MINUTE_MS = 60_000;

/**
 * Caps the rows a rejection flood leaves in `rejections` (RejectionSampler) and
 * writes what it only counted every few seconds, one small transaction for
 * all of them, so a flood costs no write per request. The total a minute is
 * shared by every process on the database (RowQuota), so a cluster keeps no
 * more than one process would.
 */
export function startRejectionKeeper(options: RejectionKeeperOptions): RejectionKeeper {
  const sampler = new RejectionSampler({
    perWindow: options.perMinute,
    windowMs: MINUTE_MS,
    maxSources: options.maxSources ?? 10_000,
    totalPerWindow: options.totalPerMinute,
  });
  const quota = new RowQuota(options.store, options.totalPerMinute);
  const flush = async (): Promise<void> => {
    const { counts, overflowed } = sampler.drain(Date.now());
    if (overflowed > 0) {
      options.logger.warn(
        { rejections: overflowed },
        'rejected callbacks were counted, not kept, and no kept row of their kind was there to count them on',
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
    keep: async (r) => {
      const now = r.receivedAt.getTime();
      const source = addressBlock(r.remoteAddress);
      // Room among the shared rows is asked for only for a rejection this process would keep.
      const allowed = sampler.wouldKeep(r.reason, source, now) && (await quota.take(now));
      // Asked again: other rejections may have filled this source's window while the store answered.
      const kept = sampler.admit(r.reason, source, r.id, now, allowed);
      if (allowed && !kept) quota.giveBack(now);
      return kept;
    },
    stop: async () => {
      clearInterval(timer);
      await flush();
    },
  };
}

/** Most rows asked of the store at once: what a process holds unused when the minute ends is lost to the others. */
const MAX_TAKE = 10;
/** After the store failed to answer, how long rejections are only counted before asking it again. */
const RETRY_AFTER_MS = 1_000;

/**
 * This process's share of the rows all processes may keep in a minute (Store.takeRejectionRows). Taken a few at a
 * time as rejections come (one, then as many as were kept this minute, at most MAX_TAKE), so a quiet process holds
 * none, and one question at a time: rejections arriving meanwhile wait for its answer.
 */
class RowQuota {
  private minute = -1;
  private held = 0;
  private keptThisMinute = 0;
  /** The store said the minute's rows are all taken. */
  private exhausted = false;
  private askAgainAt = 0;
  private asking: Promise<void> | undefined;

  constructor(
    private readonly store: IngestStore,
    private readonly cap: number,
  ) {}

  async take(nowMs: number): Promise<boolean> {
    for (;;) {
      this.roll(nowMs);
      if (this.held > 0) {
        this.held -= 1;
        this.keptThisMinute += 1;
        return true;
      }
      if (this.exhausted || nowMs < this.askAgainAt) return false;
      this.asking ??= this.ask(this.minute).finally(() => {
        this.asking = undefined;
      });
      await this.asking;
      // Answered for another minute, or a failure: `askAgainAt` and `exhausted` end the loop.
      if (this.held === 0 && (this.exhausted || nowMs < this.askAgainAt)) return false;
    }
  }

  /** A row taken for a rejection that then was not kept: back to this process's share, for the next one. */
  giveBack(nowMs: number): void {
    if (Math.floor(nowMs / MINUTE_MS) < this.minute) return;
    this.held += 1;
    this.keptThisMinute -= 1;
  }

  private roll(nowMs: number): void {
    const minute = Math.floor(nowMs / MINUTE_MS);
    // Forward only: a rejection stamped just before the minute turned takes from the new one.
    if (minute <= this.minute) return;
    this.minute = minute;
    this.held = 0;
    this.keptThisMinute = 0;
    this.exhausted = false;
  }

  private async ask(minute: number): Promise<void> {
    const want = Math.min(MAX_TAKE, Math.max(1, this.keptThisMinute));
    let granted: number;
    try {
      granted = await this.store.takeRejectionRows(minute * MINUTE_MS, want, this.cap);
    } catch {
      // Rows could not be written either; the rejections are still counted (on rows kept before, and in metrics).
      this.askAgainAt = Date.now() + RETRY_AFTER_MS;
      return;
    }
    if (minute !== this.minute) return;
    this.held += granted;
    if (granted < want) this.exhausted = true;
  }
}

/** The keeper as a component: the counts it still holds are written before the store closes. */
export function rejectionKeeperComponent(deps: { config: Config; store: IngestStore; logger: Logger }) {
  const options: RejectionKeeperOptions = {
    store: deps.store,
    logger: deps.logger,
    perMinute: deps.config.store.maxRejectionsPerMinute,
    totalPerMinute: deps.config.store.maxRejectionsPerMinuteTotal,
  };
  let keeper: RejectionKeeper | undefined;
  return {
    name: 'rejection keeper',
    keep: (rejection: NewRejection): Promise<boolean> => {
      if (!keeper) throw new Error('rejection keeper is not started');
      return keeper.keep(rejection);
    },
    start: () => {
      keeper = startRejectionKeeper(options);
    },
    stop: () => keeper?.stop(),
  };
}
