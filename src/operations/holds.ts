import type { Logger } from '../log';
import type { OrderingStore } from '../store/store';
import { NotFoundError, RefusedError } from './errors';

export interface HoldDeps {
  store: Pick<OrderingStore, 'releaseHold'>;
  /** Wakes this process's delivery worker, so the payout's next delivery goes out at once (a CLI has none). */
  wake?: (() => void) | undefined;
  logger: Logger;
}

/**
 * A payout held at an ordered destination (orderedOnDead "hold"): its dead delivery keeps the payout's later events
 * there waiting. Replaying it sends it again in its place (Replays); releasing it lets the later ones go on without
 * it, and it stays dead (still replayable). The one place that rule's refusals are worded.
 */
export class Holds {
  constructor(private readonly deps: HoldDeps) {}

  /** NotFoundError when there is no such delivery; RefusedError when it holds nothing. */
  async release(deliveryId: string): Promise<{ released: string; waiting: number }> {
    const result = await this.deps.store.releaseHold(deliveryId);
    if (!result.released) {
      if (result.state === undefined) throw new NotFoundError(`no delivery with id "${deliveryId}"`);
      throw new RefusedError(
        `delivery "${deliveryId}" holds nothing back (it is ${result.state}): only a dead delivery to an ordered ` +
          'destination with orderedOnDead "hold" does, until it is replayed or released',
      );
    }
    if (result.waiting > 0) this.deps.wake?.();
    this.deps.logger.info({ deliveryId, waiting: result.waiting }, 'held payout released');
    return { released: deliveryId, waiting: result.waiting };
  }
}
