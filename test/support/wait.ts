/**
 * What the recording test servers (HTTP receiver, SMTP server) share: a list
 * that grows, and callers waiting for it to hold a count or a condition.
 */
export class Recorder<T> {
  readonly items: T[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(private readonly label: string) {}

  add(item: T): void {
    this.items.push(item);
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves with every item once there are `count` or `predicate` holds; rejects after timeoutMs. */
  waitFor(condition: number | ((items: readonly T[]) => boolean), timeoutMs = 5000): Promise<T[]> {
    const holds = (): boolean =>
      typeof condition === 'number' ? this.items.length >= condition : condition(this.items);
    return new Promise((resolve, reject) => {
      if (holds()) return resolve([...this.items]);
      const wake = (): void => {
        if (!holds()) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve([...this.items]);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        const wanted = typeof condition === 'number' ? `${condition}` : 'the condition';
        reject(new Error(`${this.label}: waited ${timeoutMs} ms for ${wanted}; got ${this.items.length}`));
      }, timeoutMs);
      this.waiters.add(wake);
    });
  }
}

/** Checks `condition` every `intervalMs` until it holds; rejects after timeoutMs. For state with no event to wait on. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() >= deadline) throw new Error(`condition did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
