import type { Plan } from '../routing/plan';
import type { CallbackEvent, RelayEvent } from '../event';
import type { Logger } from '../log';
import type { IngestStore } from '../store/store';
import type { SaveOutcome } from '../ingest/types';
import { buildConflictEvent } from './build';

export interface ConflictAlertDeps {
  store: IngestStore;
  plan: Plan;
  logger: Logger;
  onStored: () => void;
}

/**
 * Raises a `callback.conflict` event for each kept conflicting copy, to the
 * destinations the rules choose. Raised by the process that stored the copy,
 * after its commit; never throws into the callback path.
 */
export class ConflictAlerter {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: ConflictAlertDeps) {}

  onStored(copy: CallbackEvent, outcome: SaveOutcome): void {
    const conflict = outcome.conflict;
    if (!conflict || conflict.repeat) return;
    const work = this.raise(buildConflictEvent(copy, outcome.eventId, conflict, new Date())).catch((err: unknown) =>
      this.deps.logger.error({ err, copyId: conflict.copyId }, 'could not raise a callback.conflict alert'),
    );
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  async stop(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async raise(event: RelayEvent): Promise<void> {
    const deliveries = this.deps.plan(event);
    if (deliveries.length === 0) return;
    await this.deps.store.saveEvent(event, deliveries);
    this.deps.onStored();
  }
}
