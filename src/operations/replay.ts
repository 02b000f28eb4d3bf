import type { RelayEvent } from '../event';
import type { Logger } from '../log';
import type { InspectStore, ReplayStore } from '../store/store';
import type { DeliveryState, NewDelivery } from '../delivery/types';
import type { ReplayFilter, ReplayResult } from '../store/types';
import { ConfirmationNeededError, FilterError, NotFoundError, RefusedError } from './errors';

export interface ReplayDeps {
  store: InspectStore & ReplayStore;
  /** How an event is routed now (the rules and groupings, without silences: a replay is asked for on purpose). */
  plan: (event: RelayEvent) => NewDelivery[];
  /** Wakes the delivery worker, so requeued work goes out at once; the CLI has none (the daemon polls). */
  wake?: (() => void) | undefined;
  logger: Logger;
}

/** A bulk replay as asked: which finished deliveries, and the count the asker confirmed (delivered ones need it). */
export interface ReplayRequest {
  state: DeliveryState;
  destination?: string | undefined;
  sinceMs?: number | undefined;
  /** As the asker sent it (a JSON body can hold anything): checked here to be a whole number. */
  confirm?: unknown;
}

/**
 * Delivered deliveries were asked for without `since` or `destination`: every one was received once already, so
 * re-sending needs a narrower filter. A FilterError of its own so each front can name its own spelling of the two.
 */
export class ReplayTooBroadError extends FilterError {
  constructor() {
    super('replaying delivered deliveries needs "since" or "destination": they were all received once already');
    this.name = 'ReplayTooBroadError';
  }
}

/** A named delivery that was there but could not be replayed (still pending or in flight). */
export class NotReplayedError extends RefusedError {
  constructor(
    readonly reason: string,
    readonly result: ReplayResult,
  ) {
    super(`not replayed: ${reason}`);
    this.name = 'NotReplayedError';
  }
}

const NO_SUCH_DELIVERY = 'no such delivery';

/**
 * Replays, the one place their rules live: only dead or delivered deliveries go back in the queue, with a fresh
 * attempt budget; re-sending delivered ones needs a narrow filter and the count confirmed, and the store refuses if
 * the count changed meanwhile (ReplayCountChangedError). Whatever was queued wakes the worker.
 */
export class Replays {
  constructor(private readonly deps: ReplayDeps) {}

  /** One delivery: NotFoundError if there is none, NotReplayedError if it is not finished. */
  async replayDelivery(id: string): Promise<ReplayResult> {
    const result = await this.replayDeliveries([id]);
    const skipped = result.skipped[0];
    if (skipped?.reason === NO_SUCH_DELIVERY) throw new NotFoundError(`no delivery with id "${id}"`);
    if (skipped) throw new NotReplayedError(skipped.reason, result);
    return result;
  }

  /** Named deliveries; the ones that cannot be replayed are listed as skipped, with why. */
  async replayDeliveries(ids: readonly string[]): Promise<ReplayResult> {
    return this.done(await this.deps.store.replayDeliveries(ids));
  }

  /** An event sent again as the rules route it now (a destination they add gets a new delivery). */
  async replayEvent(eventId: string): Promise<ReplayResult> {
    const result = await this.deps.store.replayEvent(eventId, this.deps.plan);
    if (!result) throw new NotFoundError(`no event with id "${eventId}"`);
    return this.done(result);
  }

  /** How many deliveries a bulk replay would requeue now: what its confirmation repeats. */
  countMatching(request: ReplayRequest): Promise<number> {
    return this.deps.store.countReplayable(checkBulk(request));
  }

  /** Every matching delivery, in one transaction; delivered ones only with `confirm` (ConfirmationNeededError). */
  async replayMatching(request: ReplayRequest): Promise<ReplayResult> {
    const filter = checkBulk(request);
    const { confirm } = request;
    if (confirm !== undefined && !(typeof confirm === 'number' && Number.isSafeInteger(confirm) && confirm >= 0)) {
      throw new FilterError('confirm: expected the number of deliveries the replay requeues, as a whole number');
    }
    if (filter.state === 'delivered' && confirm === undefined) {
      throw new ConfirmationNeededError(await this.deps.store.countReplayable(filter));
    }
    return this.done(await this.deps.store.replayMatching({ ...filter, confirm }));
  }

  private done(result: ReplayResult): ReplayResult {
    if (result.requeued.length + result.created.length > 0) this.deps.wake?.();
    this.deps.logger.info(
      { requeued: result.requeued.length, created: result.created.length, skipped: result.skipped.length },
      'replay',
    );
    return result;
  }
}

function checkBulk(request: ReplayRequest): ReplayFilter {
  const { state, destination, sinceMs } = request;
  if (state !== 'dead' && state !== 'delivered') {
    throw new FilterError('state: only dead or delivered deliveries can be replayed');
  }
  if (state === 'delivered' && destination === undefined && sinceMs === undefined) throw new ReplayTooBroadError();
  return { state, destination, sinceMs };
}
