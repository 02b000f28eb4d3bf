import type { CallbackOutcome } from '../ingest/types';
import type { Logger } from '../log';
import type { DashboardOperations } from '../operations/dashboard';
import type { CallbackMinute, CallbackTally } from '../operations/views';

export const MINUTE_MS = 60_000;
/** Minutes kept in the store: the chart shows one hour; the rest is slack for clocks and late flushes. */
const KEEP_MS = 3 * 3_600_000;

/** How the chart counts an outcome: a conflicting copy was acknowledged like a duplicate, a refusal is rejected. */
export function tallyOf(outcome: CallbackOutcome): CallbackTally {
  if (outcome === 'accepted') return 'accepted';
  if (outcome === 'duplicate' || outcome === 'conflict') return 'duplicate';
  return 'rejected';
}

/**
 * Counts callbacks per minute in memory and adds them to the store every few seconds, like the metric
 * publisher: the callback path never waits on it, and every process's counts end up in one total the
 * dashboard of any process reads. A failed flush keeps its counts for the next one.
 */
export class CallbackTallies {
  private pending = new Map<string, CallbackMinute>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly store: Pick<DashboardOperations, 'addCallbackMinutes'>,
    private readonly logger: Logger,
    private readonly intervalMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  record(outcome: CallbackOutcome): void {
    const minuteMs = Math.floor(this.now() / MINUTE_MS) * MINUTE_MS;
    const tally = tallyOf(outcome);
    const key = `${minuteMs}:${tally}`;
    const found = this.pending.get(key);
    if (found) found.count += 1;
    else this.pending.set(key, { minuteMs, outcome: tally, count: 1 });
  }

  start(): void {
    if (this.timer || this.stopping) return;
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** Adds what was counted so far; one flush at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      try {
        await this.store.addCallbackMinutes([...batch.values()], this.now() - KEEP_MS);
      } catch (err) {
        for (const [key, c] of batch) {
          const found = this.pending.get(key);
          if (found) found.count += c.count;
          else this.pending.set(key, c);
        }
        this.logger.warn({ err: { message: (err as Error).message } }, 'dashboard: callback counts not saved yet');
      }
    });
    return this.flushing;
  }

  /** Stops the timer and saves what is left; a second call returns the first's promise. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.timer);
      this.timer = undefined;
      await this.flush();
    })();
    return this.stopping;
  }
}
