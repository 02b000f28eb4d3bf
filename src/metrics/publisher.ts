import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log';
import type { MetricTotalsStore } from '../store/store';
import type { ProcessMetrics } from './collect';
import { diffSamples, flattenFamilies } from './samples';

export interface PublisherOptions {
  intervalMs: number;
}

/**
 * At start, every intervalMs and on stop (never because of a scrape: scrapes
 * only read) adds what this process counted since its last flush to the
 * shared totals, and refreshes its own process-metrics row. A crash loses at
 * most one interval of counts.
 */
export class MetricsPublisher {
  readonly instance = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private previous = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    /** The shared totals: scrapes read them from here too. */
    readonly shared: MetricTotalsStore,
    private readonly metrics: ProcessMetrics,
    private readonly options: PublisherOptions,
    private readonly logger: Logger,
  ) {}

  /** A process row older than this is a process that died without saying so. */
  get staleAfterMs(): number {
    return this.options.intervalMs * 3;
  }

  start(): void {
    // Once at once: a fresh process shows up in scrapes without waiting a whole interval.
    this.flush().catch((err: unknown) => this.logger.warn({ err }, 'could not publish metrics; will retry'));
    this.timer = setInterval(() => {
      this.flush().catch((err: unknown) => this.logger.warn({ err }, 'could not publish metrics; will retry'));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** Serialized: the timer and stop never publish the same delta twice. */
  flush(): Promise<void> {
    const run = this.chain.then(() => this.publish());
    this.chain = run.catch(() => undefined);
    return run;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    try {
      await this.flush();
      await this.shared.dropMetricProcess(this.instance);
    } catch (err) {
      this.logger.warn({ err }, 'could not publish the last metrics');
    }
  }

  private async publish(): Promise<void> {
    const current = flattenFamilies(await this.metrics.readCounters());
    const families = await this.metrics.readProcess();
    const now = Date.now();
    await this.shared.publishMetrics(diffSamples(this.previous, current), {
      instance: this.instance,
      pid: process.pid,
      now,
      families,
    });
    // Only after the commit: a failed flush leaves its delta for the next one.
    this.previous = new Map(current.map((s) => [s.series, s.value]));
    await this.shared.dropStaleMetricProcesses(now - this.staleAfterMs * 10);
  }
}
