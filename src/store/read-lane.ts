/** Read time the lane lets through back to back after a pause: one user's page of a few reads never rests. */
const BURST_MS = 200;

export interface LaneClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: LaneClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * The reads of the dashboard, the admin API and the periodic jobs, one at a time per process. A read's statements
 * run off the event loop (SQLite's read thread, PostgreSQL's server), but its rows are decoded, shaped and rendered
 * on it, and the thread or the server shares the machine's cores with the callbacks' commits. Readers reloading
 * pages without pause kept the event loop and a core busy and raised the callbacks' ack p99 by more than the
 * listings themselves took. So reads get at most half of the time once they keep the lane busy: each spends its
 * duration from a credit that time outside reads earns back (up to BURST_MS), and while others wait, the lane rests
 * as long as the credit is overdrawn. A lone user's burst of reads, or a job's, runs without a rest.
 */
export class ReadLane {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  private credit: number;
  private lastEnd: number;

  constructor(
    private readonly clock: LaneClock = realClock,
    private readonly burstMs = BURST_MS,
  ) {
    this.credit = burstMs;
    this.lastEnd = clock.now();
  }

  run<R>(read: () => Promise<R>): Promise<R> {
    this.queued += 1;
    const result = this.tail.then(async () => {
      this.queued -= 1;
      const started = this.clock.now();
      this.credit = this.creditAt(started);
      try {
        return await read();
      } finally {
        this.lastEnd = this.clock.now();
        this.credit -= this.lastEnd - started;
      }
    });
    this.tail = result.then(
      () => this.rest(),
      () => this.rest(),
    );
    return result;
  }

  /** The credit at `now`: what was left, plus the time since the last read ended, up to the burst. */
  private creditAt(now: number): number {
    return Math.min(this.burstMs, this.credit + (now - this.lastEnd));
  }

  private rest(): Promise<void> | undefined {
    if (this.queued === 0) return undefined;
    const owed = -this.creditAt(this.clock.now());
    return owed > 0 ? this.clock.sleep(owed) : undefined;
  }
}
