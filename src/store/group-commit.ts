/**
 * Group commit: writes that arrive together share one transaction, and each caller's promise settles when that
 * transaction is durable (or failed). While batches are in flight new writes queue and go together into the next,
 * so one fsync (SQLite) or one COMMIT round trip (PostgreSQL) serves a whole burst, and a slow commit makes the
 * next batch larger instead of opening more transactions.
 */
export interface Batcher<T, R> {
  submit(item: T): Promise<R>;
  /** Writes whatever is queued now, failing what a held lock refuses instead of waiting; resolves when all settled. */
  flush(): Promise<void>;
}

export interface BatcherOptions {
  maxBatch: number;
  /**
   * Batches written at once. PostgreSQL: 1, one transaction in flight and the rest queued. SQLite commits a batch
   * synchronously and then waits for its fsync off the event loop: the next batch may commit meanwhile, and one
   * fsync then covers both.
   */
  maxInFlight?: number | undefined;
  /**
   * How long an item may wait for a lock another process holds. The wait is asynchronous (retries with backoff),
   * so the event loop keeps serving health checks meanwhile; 0 fails the item at the first refusal.
   */
  busyTimeoutMs?: number | undefined;
  /** The write failed only because another connection holds the lock: try the batch again later. */
  isBusy?: (err: unknown) => boolean;
  /** Whatever the item, this write cannot succeed (the database is gone): fail the batch without trying each item. */
  failsAll?: (err: unknown) => boolean;
  now?: () => number;
}

interface Pending<T, R> {
  item: T;
  submittedAt: number;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

/** First retry after a refused lock, and the most a retry waits: short, since the lock is often held only briefly. */
const FIRST_RETRY_MS = 5;
const MAX_RETRY_MS = 100;

export function createBatcher<T, R>(writeBatch: (items: T[]) => Promise<R[]>, options: BatcherOptions): Batcher<T, R> {
  const now = options.now ?? Date.now;
  const busyTimeoutMs = options.busyTimeoutMs ?? 0;
  const maxInFlight = options.maxInFlight ?? 1;
  let queue: Pending<T, R>[] = [];
  let scheduled = false;
  const inFlight = new Set<Promise<void>>();
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = 0;
  let final = false;

  /** Starts batches from the queue while there is room, unless a refused lock is being waited for. */
  const start = (): void => {
    scheduled = false;
    while (queue.length > 0 && inFlight.size < maxInFlight && retryTimer === undefined) {
      const batch = queue.slice(0, options.maxBatch);
      queue = queue.slice(batch.length);
      const done: Promise<void> = writeOrIsolate(batch).then((refused) => {
        inFlight.delete(done);
        if (refused) {
          queue = [...refused.left, ...queue];
          if (retryTimer === undefined) waitForLock(refused.err);
          return;
        }
        if (inFlight.size === 0 && retryTimer === undefined) retryDelay = 0;
        // Writes submitted while this batch committed go now, together.
        if (queue.length > 0) schedule();
      });
      inFlight.add(done);
    }
  };

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    // setImmediate lets every request already parsed in this turn join the batch.
    setImmediate(start);
  };

  /** Settles the batch, or returns the items still waiting because the lock was refused. */
  const writeOrIsolate = async (
    batch: Pending<T, R>[],
  ): Promise<{ left: Pending<T, R>[]; err: unknown } | undefined> => {
    try {
      const results = await writeBatch(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i] as R));
      return undefined;
    } catch (err) {
      if (options.isBusy?.(err)) return { left: batch, err };
      if (batch.length === 1 || options.failsAll?.(err)) {
        for (const p of batch) p.reject(err);
        return undefined;
      }
      // One bad item must not sink its neighbours: retry each on its own.
      for (let i = 0; i < batch.length; i++) {
        const refused = await writeOrIsolate([batch[i] as Pending<T, R>]);
        if (refused) return { left: batch.slice(i), err: refused.err };
      }
      return undefined;
    }
  };

  const waitForLock = (err: unknown): void => {
    const t = now();
    const expired = final ? queue : queue.filter((p) => t - p.submittedAt >= busyTimeoutMs);
    if (expired.length > 0) {
      queue = final ? [] : queue.filter((p) => t - p.submittedAt < busyTimeoutMs);
      for (const p of expired) p.reject(err);
    }
    if (queue.length === 0) return;
    retryDelay = Math.min(Math.max(retryDelay * 2, FIRST_RETRY_MS), MAX_RETRY_MS);
    const firstDeadline = Math.min(...queue.map((p) => p.submittedAt + busyTimeoutMs));
    // Wake for the retry, or when the oldest item's wait runs out, whichever is first.
    retryTimer = setTimeout(
      () => {
        retryTimer = undefined;
        start();
      },
      Math.max(1, Math.min(retryDelay, firstDeadline - t)),
    );
  };

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, submittedAt: now(), resolve, reject });
        // While batches fill the room or a lock is waited for, new items join the next one.
        if (inFlight.size < maxInFlight && retryTimer === undefined) schedule();
      });
    },
    async flush() {
      final = true;
      try {
        for (;;) {
          if (retryTimer !== undefined) {
            clearTimeout(retryTimer);
            retryTimer = undefined;
          }
          if (queue.length > 0) start();
          if (inFlight.size === 0 && queue.length === 0) return;
          await Promise.all([...inFlight]);
        }
      } finally {
        final = false;
      }
    },
  };
}
