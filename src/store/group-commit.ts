/**
 * Group commit: requests that arrive together are written in one
 * transaction, and each caller's promise settles when that transaction
 * has committed (or failed). One fsync then serves a whole burst.
 */
export interface Batcher<T, R> {
  submit(item: T): Promise<R>;
  /** Writes whatever is queued now; resolves when it is done. */
  flush(): Promise<void>;
}

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export function createBatcher<T, R>(
  writeBatch: (items: T[]) => R[],
  options: { maxBatch: number },
): Batcher<T, R> {
  let queue: Pending<T, R>[] = [];
  let scheduled = false;

  const run = (): void => {
    scheduled = false;
    while (queue.length > 0) {
      const batch = queue.slice(0, options.maxBatch);
      queue = queue.slice(batch.length);
      writeOrIsolate(batch);
    }
  };

  const writeOrIsolate = (batch: Pending<T, R>[]): void => {
    try {
      const results = writeBatch(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i] as R));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]?.reject(err);
        return;
      }
      // One bad item must not sink its neighbours: retry each on its own.
      for (const p of batch) writeOrIsolate([p]);
    }
  };

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          // setImmediate lets every request already parsed in this turn join the batch.
          setImmediate(run);
        }
      });
    },
    async flush() {
      if (queue.length > 0) run();
    },
  };
}
