/**
 * Group commit for PostgreSQL: writes submitted in the same turn share one
 * transaction (one round of COMMIT and WAL flush), and each promise settles
 * after that COMMIT. One item whose write fails must not fail the others: a
 * batch that fails for any reason but an unreachable server is written again
 * item by item, each in its own transaction.
 */
export interface AsyncBatcher<T, R> {
  submit(item: T): Promise<R>;
  /** Resolves when everything submitted so far has settled. */
  flush(): Promise<void>;
}

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export function createAsyncBatcher<T, R>(
  writeBatch: (items: T[]) => Promise<R[]>,
  options: { maxBatch: number; failsAll: (err: unknown) => boolean },
): AsyncBatcher<T, R> {
  let queue: Pending<T, R>[] = [];
  let scheduled = false;
  const running = new Set<Promise<void>>();

  const write = async (batch: Pending<T, R>[]): Promise<void> => {
    try {
      const results = await writeBatch(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i] as R));
    } catch (err) {
      if (batch.length === 1 || options.failsAll(err)) {
        for (const p of batch) p.reject(err);
        return;
      }
      for (const p of batch) await write([p]);
    }
  };

  const run = (): void => {
    scheduled = false;
    while (queue.length > 0) {
      const batch = queue.slice(0, options.maxBatch);
      queue = queue.slice(batch.length);
      const done = write(batch).finally(() => running.delete(done));
      running.add(done);
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
      await Promise.all([...running]);
    },
  };
}
