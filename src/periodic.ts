import type { Logger } from './log';

export interface PeriodicOptions {
  /** Names the work in the log line of a run that failed. */
  name: string;
  intervalMs: number;
  /** When the first run comes after start(); default at once (next turn of the event loop). */
  firstDelayMs?: number;
  logger: Logger;
}

/**
 * Background work that runs every intervalMs (retention, the stuck check, reconciliation): runs never overlap, a
 * run that throws is logged and the next interval tries again, and stop() waits for the run in progress. A second
 * stop() returns the first one's promise. `stopping` lets a long run end early between batches.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private first: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly options: PeriodicOptions,
    private readonly run: () => Promise<void>,
  ) {}

  get stopping(): boolean {
    return this.stopped !== undefined;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    this.timer.unref();
    this.first = setTimeout(() => this.tick(), this.options.firstDelayMs ?? 0);
    this.first.unref();
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      clearInterval(this.timer);
      clearTimeout(this.first);
      this.timer = undefined;
      await this.running;
    })();
    return this.stopped;
  }

  private tick(): void {
    if (this.running || this.stopped) return;
    this.running = this.run()
      .catch((err: unknown) => this.options.logger.error({ err }, `${this.options.name} failed; will try again`))
      .finally(() => {
        this.running = undefined;
      });
  }
}
