import type { Destination } from '../destinations/types';
import type { Logger } from '../log';
import type { OrderingStore, OutboxStore, RateLimitStore } from '../store/store';
import type { RetryPolicy } from './backoff';
import type { Breakers } from './breaker';
import type { AttemptReport, OrderedOnDead } from './types';

/** The delivery worker's settings and ports (src/delivery/worker.ts), shared with the attempt it runs. */

export interface WorkerOptions extends RetryPolicy {
  timeoutMs: number;
  /** Default per-destination limit; a destination's own maxInFlight wins. */
  maxInFlight: number;
  /** How often to look for work written by other processes (CLI replays, cluster peers). */
  pollIntervalMs: number;
  /** At most this many sends at once in this process. */
  maxConcurrent?: number;
  /** How long a claim is ours before another process may take it; default timeoutMs * 2 + 5 s. */
  leaseMs?: number;
}

export interface WorkerDeps {
  /**
   * Without pauseDestination a 429 delays only its own delivery; without finishInLine a payout's next delivery to an
   * ordered destination waits for a claim.
   */
  store: OutboxStore & Partial<RateLimitStore> & Partial<Pick<OrderingStore, 'finishInLine'>>;
  destinations: ReadonlyMap<string, Destination>;
  destinationLimits: ReadonlyMap<string, number>;
  /**
   * Rate-limited destinations (Slack: 1000 / ratePerSecond ms between sends, across processes). A 429 from one
   * of them pauses all its deliveries for the Retry-After it sent.
   */
  minIntervals?: ReadonlyMap<string, number>;
  /** Ordered destinations, with what a death does to a payout's later events there (orderedOnDead). */
  ordering?: ReadonlyMap<string, OrderedOnDead>;
  logger: Logger;
  /** Every configured secret (destinations, partners, admin token), longest first: scrubbed from what is recorded. */
  secrets?: readonly string[];
  onAttempt?: (report: AttemptReport) => void;
  /** Destinations' breakers: failures recorded, sends to an open or paused destination held back. */
  breakers?: Breakers;
  now?: () => number;
  random?: () => number;
}
