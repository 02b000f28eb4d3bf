/**
 * Group commit: writes that arrive together share one transaction, and each caller's promise settles when that
 * transaction is durable (or failed). While batches are in flight new writes queue and go together into the next,
 * so one fsync (SQLite) or one COMMIT round trip (PostgreSQL) serves a whole burst, and a slow commit makes the
 * next batch larger instead of opening more transactions.
 */
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

/** A batch refused by a lock another process holds: its items, back at the head of the queue. */
interface Refused<T, R> {
  left: Pending<T, R>[];
  err: unknown;
}

/** First retry after a refused lock, and the most a retry waits: short, since the lock is often held only briefly. */
const FIRST_RETRY_MS = 5;
const MAX_RETRY_MS = 100;

export class Batcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 0;
  /** Set while flush() runs: a refused lock fails the items at once instead of waiting. */
  private final = false;
  private readonly now: () => number;

  constructor(
    private readonly writeBatch: (items: T[]) => Promise<R[]>,
    private readonly options: BatcherOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, submittedAt: this.now(), resolve, reject });
      // While batches fill the room or a lock is waited for, new items join the next one.
      if (this.hasRoom()) this.schedule();
    });
  }

  /** Writes whatever is queued now, failing what a held lock refuses instead of waiting; resolves when all settled. */
  async flush(): Promise<void> {
    this.final = true;
    try {
      for (;;) {
        if (this.retryTimer !== undefined) {
          clearTimeout(this.retryTimer);
          this.retryTimer = undefined;
        }
        if (this.queue.length > 0) this.start();
        if (this.inFlight.size === 0 && this.queue.length === 0) return;
        await Promise.all([...this.inFlight]);
      }
    } finally {
      this.final = false;
    }
  }

  private hasRoom(): boolean {
    return this.inFlight.size < (this.options.maxInFlight ?? 1) && this.retryTimer === undefined;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate lets every request already parsed in this turn join the batch.
    setImmediate(() => this.start());
  }

  /** Starts batches from the queue while there is room, unless a refused lock is being waited for. */
  private start(): void {
    this.scheduled = false;
    while (this.queue.length > 0 && this.hasRoom()) {
      const batch = this.queue.slice(0, this.options.maxBatch);
      this.queue = this.queue.slice(batch.length);
      const done: Promise<void> = this.writeOrIsolate(batch).then((refused) => {
        this.inFlight.delete(done);
        this.settled(refused);
      });
      this.inFlight.add(done);
    }
  }

  private settled(refused: Refused<T, R> | undefined): void {
    if (refused) {
      this.queue = [...refused.left, ...this.queue];
      if (this.retryTimer === undefined) this.waitForLock(refused.err);
      return;
    }
    if (this.inFlight.size === 0 && this.retryTimer === undefined) this.retryDelay = 0;
    // Writes submitted while this batch committed go now, together.
    if (this.queue.length > 0) this.schedule();
  }

  /** Settles the batch, or returns the items still waiting because the lock was refused. */
  private async writeOrIsolate(batch: Pending<T, R>[]): Promise<Refused<T, R> | undefined> {
    try {
      const results = await this.writeBatch(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i] as R));
      return undefined;
    } catch (err) {
      if (this.options.isBusy?.(err)) return { left: batch, err };
      if (batch.length === 1 || this.options.failsAll?.(err)) {
        for (const p of batch) p.reject(err);
        return undefined;
      }
      // One bad item must not sink its neighbours: retry each on its own.
      for (let i = 0; i < batch.length; i++) {
        const refused = await this.writeOrIsolate([batch[i] as Pending<T, R>]);
        if (refused) return { left: batch.slice(i), err: refused.err };
      }
      return undefined;
    }
  }

  private waitForLock(err: unknown): void {
    const t = this.now();
    const busyTimeoutMs = this.options.busyTimeoutMs ?? 0;
    const expired = this.final ? this.queue : this.queue.filter((p) => t - p.submittedAt >= busyTimeoutMs);
    if (expired.length > 0) {
      this.queue = this.final ? [] : this.queue.filter((p) => t - p.submittedAt < busyTimeoutMs);
      for (const p of expired) p.reject(err);
    }
    if (this.queue.length === 0) return;
    this.retryDelay = Math.min(Math.max(this.retryDelay * 2, FIRST_RETRY_MS), MAX_RETRY_MS);
    const firstDeadline = Math.min(...this.queue.map((p) => p.submittedAt + busyTimeoutMs));
    // Wake for the retry, or when the oldest item's wait runs out, whichever is first.
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.start();
      },
      Math.max(1, Math.min(this.retryDelay, firstDeadline - t)),
    );
  }
}

export function createBatcher<T, R>(writeBatch: (items: T[]) => Promise<R[]>, options: BatcherOptions): Batcher<T, R> {
  return new Batcher(writeBatch, options);
}
