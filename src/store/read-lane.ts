/** While other reads wait, the lane rests this many times as long as the last read took before it starts the next. */
const REST_RATIO = 1;

/**
 * The reads of the dashboard, the admin API and the periodic jobs, one at a time per process. A read's statements
 * run off the event loop (SQLite's read thread, PostgreSQL's server), but its rows are decoded, shaped and rendered
 * on it, and the thread or the server shares the machine's cores with the callbacks' commits. Readers reloading
 * pages without pause kept the event loop and a core busy and raised the callbacks' ack p99 by more than the
 * listings themselves took. So while reads queue, the lane rests after each as long as it took: listings get at most
 * half of the time, and a lone read (one user, a job) never waits.
 */
export class ReadLane {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(
    private readonly clock: { now(): number; sleep(ms: number): Promise<void> } = {
      now: () => performance.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    },
  ) {}

  run<R>(read: () => Promise<R>): Promise<R> {
    this.queued += 1;
    let tookMs = 0;
    const result = this.tail.then(async () => {
      this.queued -= 1;
      const started = this.clock.now();
      try {
        return await read();
      } finally {
        tookMs = this.clock.now() - started;
      }
    });
    this.tail = result.then(
      () => this.rest(tookMs),
      () => this.rest(tookMs),
    );
    return result;
  }

  private rest(tookMs: number): Promise<void> | undefined {
    if (this.queued === 0 || tookMs <= 0) return undefined;
    return this.clock.sleep(tookMs * REST_RATIO);
  }
}
