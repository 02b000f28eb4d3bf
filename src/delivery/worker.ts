import { randomBytes } from 'node:crypto';
import { createFlatLogger, type Logger } from '../log';
import { StoreBusyError } from '../store/errors';
import type { RelayEvent } from '../event';
import type { AttemptRecord, ClaimedDelivery, DeliveryNext, IngestLease, NewDelivery, OrderedOnDead } from './types';
import type { SaveOutcome } from '../ingest/types';
import { AttemptRunner } from './attempt';
import type { WorkerDeps, WorkerOptions } from './worker-deps';
import { HandOff, HAND_OFF_PER_DESTINATION, LEASE_MARGIN, MAX_HANDED } from './hand-off';
import { scrubSecrets } from '../scrub';
import { scrubAttempt } from './failure';
import { holdIfOrdered, orderedOnDeadOf } from './ordering';

/** How soon to claim again when another process held the write lock. */
const BUSY_RETRY_MS = 50;

/**
 * Sends deliveries. Those of callbacks this process ingested come in memory:
 * the ingest transaction wrote them already leased to this worker
 * (leaseForIngest, takeLeased), so they need no claim, and they wait in
 * memory for a send slot (at most maxInFlight sends per destination). The
 * rest (past the hand-off's bounds, retries, other processes' work) are
 * claimed from the outbox: woken at once by new work, by a timer for retries,
 * and by a poll for work other processes wrote. Each send is bounded by
 * timeoutMs, so stop() can drain in bounded time; handed-over deliveries not
 * yet started go back to the queue at stop.
 */
export class DeliveryWorker {
  readonly owner = `${process.pid}-${randomBytes(4).toString('hex')}`;
  /** Attempts running: sending, or recording what the send got. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Sends running: at most maxConcurrent. */
  private sending = 0;
  /** Leased at ingest, waiting for a send slot; and the sends running, by destination. */
  private readonly handOff = new HandOff();
  private stopping: Promise<void> | undefined;
  /** Sends running now, by delivery id, with when their lease ends: renewed past half the lease. */
  private readonly leases = new Map<string, number>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private pumpRun: Promise<void> | undefined;
  private running = false;
  private pumping = false;
  /**
   * Whether the outbox may hold deliveries due now (pending past their time): false once a pump found none, so
   * a send of a handed-over delivery finishing costs no claim transaction. New work, retries and the poll wake
   * the worker through notify() as before.
   */
  private dueMaybe = true;
  private again = false;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  /** One line per attempt, from flat fields with secrets already scrubbed: see createFlatLogger. */
  private readonly attemptLogger: Logger;
  private readonly runner: AttemptRunner;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly options: WorkerOptions,
  ) {
    this.now = deps.now ?? Date.now;
    this.attemptLogger = createFlatLogger(deps.logger);
    this.runner = new AttemptRunner(deps, options);
  }

  start(): void {
    this.running = true;
    this.leaseTimer = setInterval(() => void this.renewLeases(), Math.max(5, Math.floor(this.leaseMs / 4)));
    this.leaseTimer.unref();
    this.notify();
  }

  private get leaseMs(): number {
    return this.options.leaseMs ?? this.options.timeoutMs * 2 + 5_000;
  }

  /** New work may be due: look now rather than at the next tick. */
  notify(): void {
    if (!this.running) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    // One pump per turn however many sends finished or events arrived in it: each pump is a claim transaction.
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pumpRun = this.pump();
    });
  }

  /**
   * Stops claiming and waits for sends in flight (each bounded by timeoutMs). Deliveries claimed but not yet
   * started go back to the queue at once, rather than waiting out their lease.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async stopOnce(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.pumpRun;
    const unsent = this.handOff.takeAll();
    for (const d of unsent) this.leases.delete(d.id);
    if (unsent.length > 0) await this.release(unsent);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
  }

  /**
   * For the ingest transaction: write this event's deliveries leased to this worker, as far as each destination's
   * maxInFlight allows, or its hand-off where no other process holds a lease on it (IngestLease.handOff). Undefined while
   * stopped or when the hand-off is full.
   */
  leaseForIngest(): (IngestLease & { handOff: (destination: string) => number }) | undefined {
    if (!this.running || this.handOff.size >= MAX_HANDED) return undefined;
    // A rate-limited destination (Slack) is never leased at ingest: its sends wait for their slot, taken by a claim.
    const limited = (name: string): boolean => this.deps.minIntervals?.has(name) === true;
    return {
      owner: this.owner,
      untilMs: this.now() + this.leaseMs,
      maxInFlight: (name) => (limited(name) ? 0 : this.limitOf(name)),
      handOff: (name) => (limited(name) ? 0 : Math.max(HAND_OFF_PER_DESTINATION, this.limitOf(name))),
    };
  }

  private limitOf(destination: string): number {
    return this.deps.destinationLimits.get(destination) ?? this.options.maxInFlight;
  }

  /** After the commit: the deliveries saveEvent wrote leased to this worker, sent from memory. */
  takeLeased(event: RelayEvent, outcome: SaveOutcome, deliveries: readonly NewDelivery[]): void {
    const leased = new Set(outcome.leased ?? []);
    if (leased.size === 0) return;
    const taken: ClaimedDelivery[] = deliveries
      .filter((d) => leased.has(d.id))
      .map((d) => ({
        id: d.id,
        eventId: outcome.eventId,
        destination: d.destination,
        rules: d.rules,
        attempt: 1,
        event,
      }));
    if (!this.running) {
      // Stopped between the commit and here: back to the queue at once, not after the lease.
      void this.release(taken);
      return;
    }
    const until = this.now() + this.leaseMs;
    for (const d of taken) this.leases.set(d.id, until);
    this.handOff.add(taken);
    this.startHanded();
  }

  /** Starts what was handed over, as far as each destination's maxInFlight and maxConcurrent allow. */
  private startHanded(): void {
    if (this.handOff.size === 0 || !this.running) return;
    const room = (this.options.maxConcurrent ?? 64) - this.sending;
    for (const delivery of this.handOff.takeStartable(room, (name) => this.limitOf(name))) {
      if (this.stillLeased(delivery)) this.track(delivery);
    }
  }

  /**
   * Whether a delivery waiting in memory may still be sent: not if its lease ends (as last renewed here) within
   * LEASE_MARGIN of leaseMs, as when renewals failed: another process may claim it once it expires. It is dropped
   * from memory, and claimed again (by any process) when it expires.
   */
  private stillLeased(delivery: ClaimedDelivery): boolean {
    const until = this.leases.get(delivery.id);
    if (until !== undefined && until - this.now() > this.leaseMs * LEASE_MARGIN) return true;
    this.leases.delete(delivery.id);
    this.deps.logger.warn(
      { deliveryId: delivery.id, destination: delivery.destination },
      'lease of a handed-over delivery about to end unrenewed: left for a claim',
    );
    return false;
  }

  /** Sends past half their lease get a fresh one, so a slow send is never taken over by another process. */
  private async renewLeases(): Promise<void> {
    const now = this.now();
    const due = [...this.leases].filter(([, until]) => until - now < this.leaseMs / 2).map(([id]) => id);
    if (due.length === 0) return;
    const until = now + this.leaseMs;
    try {
      await this.deps.store.renewLeases(this.owner, due, until);
      for (const id of due) if (this.leases.has(id)) this.leases.set(id, until);
    } catch (err) {
      this.deps.logger.warn({ err, deliveries: due.length }, 'could not renew delivery leases; will try again');
    }
  }

  /** Claimed after stop() began: handed back unsent, the attempt not counted. */
  private async release(claimed: readonly ClaimedDelivery[]): Promise<void> {
    try {
      await this.deps.store.releaseLeases(
        this.owner,
        claimed.map((d) => d.id),
      );
    } catch (err) {
      // Their leases expire and they are claimed again: at-least-once holds, only later.
      this.deps.logger.warn({ err, deliveries: claimed.length }, 'could not release unsent deliveries at stop');
    }
  }

  private async pump(): Promise<void> {
    if (this.pumping || !this.running) return;
    this.pumping = true;
    try {
      do {
        this.again = false;
        // Deliveries handed over wait only for their destination's maxInFlight (startHanded ran before): claims
        // for that destination find no slot either, other destinations may have one.
        const room = (this.options.maxConcurrent ?? 64) - this.sending;
        if (room <= 0) break;
        const now = this.now();
        const claimed = await this.deps.store.claimDeliveries({
          owner: this.owner,
          now,
          leaseMs: this.leaseMs,
          maxInFlight: (name) => this.limitOf(name),
          max: room,
          minIntervalMs: (name) => this.deps.minIntervals?.get(name),
        });
        if (!this.running) {
          if (claimed.length > 0) await this.release(claimed);
          return;
        }
        for (const delivery of claimed) {
          this.leases.set(delivery.id, now + this.leaseMs);
          this.track(delivery);
        }
        if (claimed.length === room) this.again = true;
      } while (this.again && this.running);
      await this.scheduleNextWake();
    } catch (err) {
      if (err instanceof StoreBusyError) {
        // Another process is committing (a cluster peer, the CLI): routine, and over soon.
        this.deps.logger.debug({ code: err.code }, 'outbox locked by another process; retrying');
        this.schedule(BUSY_RETRY_MS);
      } else {
        this.deps.logger.error({ err }, 'delivery worker could not read the outbox; retrying');
        this.schedule(this.options.pollIntervalMs);
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Runs one attempt: the send, then its record. The send slot (the destination's maxInFlight, maxConcurrent) is
   * free once the receiver answered, before the record's commit: the next delivery handed over goes out meanwhile.
   * The delivery stays leased (and in flight to other processes' claims) until the record is committed.
   */
  private track(delivery: ClaimedDelivery): void {
    this.handOff.started(delivery.destination);
    this.sending++;
    let sent = false;
    const onSent = (): void => {
      if (sent) return;
      sent = true;
      this.sending--;
      this.handOff.ended(delivery.destination);
      // First for what ingest handed over, then for a claim.
      this.startHanded();
      if (this.handOff.size === 0 && this.dueMaybe) this.notify();
    };
    const run = this.attempt(delivery, onSent);
    this.inFlight.add(run);
    void run.finally(() => {
      this.inFlight.delete(run);
      onSent();
      // Recorded: claims count the delivery out of flight now.
      if (this.handOff.size === 0 && this.dueMaybe) this.notify();
    });
  }

  private async scheduleNextWake(): Promise<void> {
    const due = await this.deps.store.nextWakeAt();
    this.dueMaybe = due !== undefined && due <= this.now();
    const wait = due === undefined ? this.options.pollIntervalMs : Math.max(0, due - this.now());
    this.schedule(Math.min(wait, this.options.pollIntervalMs));
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.notify(), Math.max(ms, 5));
    this.timer.unref();
  }

  /** `onSent`: called once the send is over, before the attempt is recorded. */
  private async attempt(delivery: ClaimedDelivery, onSent: () => void): Promise<void> {
    if (await this.deps.breakers?.holds(delivery)) {
      onSent();
      return this.holdBack(delivery);
    }
    const result = await this.runner.run(delivery);
    let { attempt, next } = result;
    let { deadReason } = result;
    onSent();
    const onDead = orderedOnDeadOf(this.deps.ordering, delivery);
    next = holdIfOrdered(next, onDead);
    const secrets = this.deps.secrets ?? [];
    attempt = scrubAttempt(attempt, secrets);
    if (deadReason !== undefined) deadReason = scrubSecrets(deadReason, secrets);
    let passed: ClaimedDelivery | undefined;
    try {
      passed = await this.finish(delivery, attempt, next, onDead);
    } catch (err) {
      // The lease will expire and the delivery will be tried again: at-least-once holds.
      this.deps.logger.error({ err, deliveryId: delivery.id }, 'could not record a delivery attempt');
      return;
    } finally {
      this.leases.delete(delivery.id);
    }
    this.attemptLogger.info(
      {
        deliveryId: delivery.id,
        eventId: delivery.eventId,
        destination: delivery.destination,
        attempt: delivery.attempt,
        outcome: attempt.outcome,
        status: attempt.status,
        error: attempt.error,
        ms: attempt.durationMs,
      },
      'delivery attempt',
    );
    this.deps.onAttempt?.({
      delivery,
      attempt,
      next,
      ...(deadReason ? { deadReason } : {}),
      ...(onDead ? { orderedOnDead: onDead } : {}),
    });
    // A retry is due later: a pump schedules the wake for it.
    if (next.state === 'pending') this.notify();
    // A finished delivery of a payout's line lets its next one go: passed on to this worker, or due for a claim.
    else if (onDead !== undefined) this.takePassedOn(passed);
  }

  /** Records the attempt; a delivery of a payout's line passes the line on to this worker (finishInLine). */
  private async finish(
    delivery: ClaimedDelivery,
    attempt: AttemptRecord,
    next: DeliveryNext,
    onDead: OrderedOnDead | undefined,
  ): Promise<ClaimedDelivery | undefined> {
    const { store } = this.deps;
    if (onDead === undefined || store.finishInLine === undefined) {
      await store.finishAttempt(delivery, this.owner, attempt, next);
      return undefined;
    }
    const until = this.now() + this.leaseMs;
    const passed = await store.finishInLine(delivery, this.owner, attempt, next, until);
    if (passed !== undefined) this.leases.set(passed.id, until);
    return passed;
  }

  /** The payout's next delivery, leased to this worker by the finish: sent like one handed over by ingest. */
  private takePassedOn(passed: ClaimedDelivery | undefined): void {
    if (passed === undefined) {
      // Passed on to no one (none waiting, not due yet, or held): a claim looks, once a pump runs.
      this.dueMaybe = true;
      return;
    }
    if (!this.running) {
      this.leases.delete(passed.id);
      void this.release([passed]);
      return;
    }
    this.handOff.add([passed]);
    this.startHanded();
  }

  /** Claimed or handed over before its destination's breaker opened or paused: back to pending, unsent. */
  private async holdBack(delivery: ClaimedDelivery): Promise<void> {
    this.leases.delete(delivery.id);
    await this.release([delivery]);
  }
}
