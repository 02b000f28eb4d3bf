import type { BreakerSettings } from '../destinations/breaker';
import type { Logger } from '../log';
import type { BreakerStore } from '../store/store';
import type { FailureFacts } from './failure';
import type { BreakerChange, ClaimedDelivery } from './types';

/**
 * What one failed attempt means to its destination's breaker, decided from the answer alone: a webhook's 410 Gone
 * pauses the destination (Standard Webhooks: the endpoint is gone, do not retry); a retryable failure counts toward
 * opening it; a permanent refusal says the receiver is up and refusing this delivery, which is the delivery's own
 * fate, not the destination's.
 */
export function judgeFailure(
  failure: Pick<FailureFacts, 'retryable' | 'status'>,
  destination: { type: 'slack' | 'email' | 'webhook'; breaker: boolean },
): 'gone' | 'count' | 'none' {
  if (destination.type === 'webhook' && failure.status === 410) return 'gone';
  if (!destination.breaker) return 'none';
  return failure.retryable ? 'count' : 'none';
}

export interface BreakerDeps {
  store: BreakerStore;
  /** Each destination's breaker (those without one absent). */
  settings: ReadonlyMap<string, BreakerSettings>;
  types: ReadonlyMap<string, 'slack' | 'email' | 'webhook'>;
  logger: Logger;
  /** Told of every change this process made: it owes the change's alert. */
  onChange: (change: BreakerChange) => void;
  /** How often to read every destination's state again (what other processes recorded). */
  refreshMs: number;
  now?: () => number;
}

/**
 * The delivery worker's side of the breakers, whose state the store keeps for every process: records failures
 * (and the successes after them, not every success: the hot path writes nothing) and tells the worker which sends
 * to hold back. A store failure here never loses a delivery: the attempt is finished as if there were no breaker.
 */
export class Breakers {
  /** Destinations whose count may stand above 0 in the store: their next success writes it back to 0. */
  private readonly counting = new Set<string>();
  /** Open or paused as last seen: sends to them other than probes are handed back unsent. */
  private readonly held = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly deps: BreakerDeps) {
    this.now = deps.now ?? Date.now;
  }

  async start(): Promise<void> {
    const settings = [...this.deps.types.keys()].map((destination) => ({
      destination,
      probeIntervalMs: this.deps.settings.get(destination)?.probeIntervalMs,
    }));
    try {
      await this.deps.store.applyBreakerSettings(settings, this.now());
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not apply breaker settings; open breakers keep their probe interval');
    }
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.deps.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Whether a send of this delivery should wait: its destination is open or paused and it is not the probe. What was
   * last seen is read again first: the store let this delivery be leased, so the hold may have been lifted since (a
   * resume by hand, another process's probe), and a stale one would keep a resumed backlog back until the next
   * refresh. Costs nothing while every destination is closed.
   */
  async holds(delivery: ClaimedDelivery): Promise<boolean> {
    if (delivery.probe === true || !this.held.has(delivery.destination)) return false;
    await this.refreshNow();
    return this.held.has(delivery.destination);
  }

  /** One read of the breakers for every caller waiting on it at once. */
  private refreshNow(): Promise<void> {
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  async afterSuccess(delivery: ClaimedDelivery): Promise<void> {
    const { destination } = delivery;
    if (delivery.probe !== true && !this.counting.has(destination)) return;
    // Cleared before the write, not after: a failure recorded while it is under way marks the count again, and the
    // next success writes it back to 0. Cleared after, that mark was lost, later successes wrote nothing, and failures
    // that were not in a row added up until they opened the breaker of a receiver that was only flaky.
    this.counting.delete(destination);
    try {
      const change = await this.deps.store.recordBreakerSuccess(destination, this.now());
      if (change) this.changed(change);
    } catch (err) {
      this.counting.add(destination);
      this.deps.logger.warn({ err, destination }, 'could not record a success with the breaker; the next one will');
    }
  }

  /**
   * Records the failure with the destination's breaker. True when the delivery must stay pending whatever its
   * attempts: the destination is open or paused (now or already), so the receiver being down does not kill it.
   */
  async afterFailure(delivery: ClaimedDelivery, failure: FailureFacts): Promise<boolean> {
    const { destination } = delivery;
    const type = this.deps.types.get(destination);
    const settings = this.deps.settings.get(destination);
    if (type === undefined) return false;
    const verdict = judgeFailure(failure, { type, breaker: settings !== undefined });
    if (verdict === 'none') return false;
    const now = this.now();
    try {
      if (verdict === 'gone') {
        const change = await this.deps.store.pauseSends({ destination, now, reason: 'gone', error: failure.error });
        this.held.add(destination);
        if (change) this.changed(change);
        return true;
      }
      const recorded = await this.deps.store.recordBreakerFailure({
        destination,
        now,
        error: failure.error,
        threshold: (settings as BreakerSettings).failures,
        probeIntervalMs: (settings as BreakerSettings).probeIntervalMs,
      });
      this.counting.add(destination);
      if (recorded.change) this.changed(recorded.change);
      if (recorded.state === 'closed') return delivery.probe === true;
      this.held.add(destination);
      return true;
    } catch (err) {
      this.deps.logger.warn({ err, destination }, 'could not record a failure with the breaker');
      return delivery.probe === true;
    }
  }

  private changed(change: BreakerChange): void {
    if (change.to === 'closed') this.held.delete(change.destination);
    else this.held.add(change.destination);
    const log = change.to === 'closed' ? this.deps.logger.info : this.deps.logger.warn;
    log.call(
      this.deps.logger,
      {
        destination: change.destination,
        from: change.from,
        to: change.to,
        reason: change.reason,
        backlog: change.backlog,
        lastError: change.lastErrors[0],
      },
      change.to === 'open'
        ? 'destination breaker opened: one probe per interval until a send goes through'
        : change.to === 'paused'
          ? 'destination paused: nothing is sent to it until it is resumed'
          : 'destination breaker closed: its backlog drains',
    );
    this.deps.onChange(change);
  }

  /** What other processes recorded: which destinations are held, and which have a count to write back to 0. */
  private async refresh(): Promise<void> {
    try {
      const rows = await this.deps.store.readBreakers();
      this.held.clear();
      for (const row of rows) {
        if (row.state !== 'closed') this.held.add(row.destination);
        if (row.failures > 0) this.counting.add(row.destination);
      }
    } catch (err) {
      this.deps.logger.debug({ err }, 'could not read the breakers; will try again');
    }
  }
}
