import type { Destination } from '../destinations/types';
import { scrubSecrets } from '../scrub';
import { Backstop } from './backstop';
import { decideAfterFailure, type Verdict } from './backoff';
import { describeFailure, type FailureFacts } from './failure';
import type { AttemptRecord, ClaimedDelivery, DeliveryNext } from './types';
import type { WorkerDeps, WorkerOptions } from './worker-deps';

/** What one try of a delivery came to, before it is recorded. */
export interface AttemptResult {
  attempt: AttemptRecord;
  next: DeliveryNext;
  /** Why the delivery died, when it did (not yet scrubbed). */
  deadReason?: string;
}

/**
 * One try of a delivery: the send, bounded by a backstop, then what it means for the delivery (the breaker and the
 * retry maths) and for its destination (a rate limit's spacing, a 429's Retry-After). The worker records the result.
 */
export class AttemptRunner {
  private readonly backstop: Backstop;
  private readonly now: () => number;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly options: WorkerOptions,
  ) {
    this.now = deps.now ?? Date.now;
    this.backstop = new Backstop(options.timeoutMs + 1_000, `no answer within ${options.timeoutMs} ms`);
  }

  async run(delivery: ClaimedDelivery): Promise<AttemptResult> {
    const started = this.now();
    const destination = this.deps.destinations.get(delivery.destination);
    if (!destination) {
      const deadReason = `destination "${delivery.destination}" is no longer configured`;
      return {
        attempt: { startedAt: started, durationMs: 0, outcome: 'dead', error: deadReason },
        next: { state: 'dead' },
        deadReason,
      };
    }
    try {
      const result = await this.send(destination, delivery);
      await this.holdDestination(delivery.destination);
      await this.deps.breakers?.afterSuccess(delivery);
      return {
        attempt: { startedAt: started, durationMs: this.now() - started, outcome: 'delivered', ...result },
        next: { state: 'delivered' },
      };
    } catch (err) {
      const failure = describeFailure(err);
      const verdict = await this.judge(delivery, failure);
      const base = { startedAt: started, durationMs: this.now() - started, error: failure.error };
      const extra = {
        ...(failure.status !== undefined ? { status: failure.status } : {}),
        ...(failure.response !== undefined ? { response: failure.response } : {}),
      };
      await this.holdDestination(delivery.destination, failure);
      if (verdict.kind === 'retry') {
        return {
          attempt: { ...base, ...extra, outcome: 'retry' },
          next: { state: 'pending', nextAttemptMs: this.now() + verdict.delayMs },
        };
      }
      return {
        attempt: { ...base, ...extra, outcome: 'dead', error: verdict.reason },
        next: { state: 'dead' },
        deadReason: verdict.reason,
      };
    }
  }

  /**
   * After the destination's breaker has heard of the failure: a delivery to a destination open or paused now stays
   * pending, due at once (the breaker decides when it goes), whatever its attempts; else the retry maths decide.
   */
  private async judge(delivery: ClaimedDelivery, failure: FailureFacts): Promise<Verdict> {
    const error = scrubSecrets(failure.error, this.deps.secrets ?? []);
    if (await this.deps.breakers?.afterFailure(delivery, { ...failure, error })) return { kind: 'retry', delayMs: 0 };
    return decideAfterFailure({ attempt: delivery.attempt, ...failure }, this.options, this.deps.random);
  }

  /**
   * A rate-limited destination's next send waits `interval` from this answer, not only from this claim: a slow
   * send (a cold connection) would otherwise reach the receiver less than `interval` before the next. A 429 with
   * Retry-After holds every delivery to it that long (capped like any Retry-After), not only this one, so the
   * queue drains at the receiver's pace instead of each delivery meeting its own 429.
   */
  private async holdDestination(destination: string, failure?: { status?: number; retryAfterMs?: number }) {
    const interval = this.deps.minIntervals?.get(destination);
    const pause = this.deps.store.pauseDestination?.bind(this.deps.store);
    if (interval === undefined || !pause) return;
    const asked = failure?.status === 429 ? Math.min(failure.retryAfterMs ?? 0, this.options.maxBackoffMs) : 0;
    const holdMs = Math.max(interval, asked);
    try {
      await pause(destination, this.now() + holdMs);
      if (asked > 0)
        this.deps.logger.warn({ destination, pauseMs: asked }, 'destination answered 429: paused for its Retry-After');
    } catch (err) {
      // The claim's slot still spaced this send; a 429's own delivery still waits its Retry-After.
      this.deps.logger.warn({ err, destination }, 'could not hold a rate-limited destination');
    }
  }

  private async send(destination: Destination, delivery: ClaimedDelivery) {
    // Destinations enforce timeoutMs themselves (and say so in the attempt's error); this is
    // the backstop for one that does not, so a send can never hold a lease or the drain open.
    const backstop = this.backstop.take();
    try {
      return await destination.send({
        deliveryId: delivery.id,
        attempt: delivery.attempt,
        event: delivery.event,
        rules: delivery.rules,
        signal: backstop.signal,
      });
    } finally {
      backstop.done();
    }
  }
}
