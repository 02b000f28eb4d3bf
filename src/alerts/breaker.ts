import type { BreakerChange } from '../delivery/types';
import type { SystemEvent } from '../event';
import { createId } from '../ids';
import type { Logger } from '../log';
import type { Plan } from '../routing/plan';
import type { IngestStore } from '../store/store';
import { describeDuration } from './silence-input';

/**
 * destination.unhealthy and destination.recovered: a destination's breaker opened (or a 410 Gone paused it), and it
 * closed again. Raised once per outage, by the one process whose transaction made the change; health alerts, so no
 * silence holds them back (silence-scope.ts). The errors were scrubbed before they were recorded.
 */
export function buildBreakerEvent(change: BreakerChange, now: Date): SystemEvent | undefined {
  if (change.alert === undefined) return undefined;
  const base = {
    destination: change.destination,
    state: change.to,
    since: new Date(change.sinceMs).toISOString(),
  };
  if (change.alert === 'unhealthy') {
    return {
      id: createId('evt'),
      source: 'skyrelay',
      type: 'destination.unhealthy',
      receivedAt: now.toISOString(),
      data: {
        ...base,
        reason:
          change.reason === 'gone'
            ? 'the receiver answered 410 Gone: nothing is sent to it until it is resumed by hand'
            : `failures in a row: nothing but one probe per interval is sent to it until a send goes through`,
        lastError: change.lastErrors[0] ?? null,
        lastErrors: change.lastErrors.join('\n'),
        backlog: change.backlog,
        action:
          change.reason === 'gone'
            ? `fix the receiver's URL or the receiver, then: skyrelay destination resume ${change.destination}`
            : 'deliveries wait, none is dropped; skyrelay destinations shows the state',
      },
    };
  }
  const outageMs = Math.max(0, change.atMs - change.sinceMs);
  return {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'destination.recovered',
    receivedAt: now.toISOString(),
    data: {
      ...base,
      reason: change.by === undefined ? 'a send went through' : `resumed by hand by ${change.by}`,
      outage: describeDuration(outageMs),
      outageMs,
      waited: change.backlog,
      by: change.by ?? null,
    },
  };
}

/** Raises a change's alert where the rules route it: never to the destination it says is down. */
export async function raiseBreakerAlert(
  deps: { store: Pick<IngestStore, 'saveEvent'>; plan: Plan },
  change: BreakerChange,
): Promise<boolean> {
  const event = buildBreakerEvent(change, new Date());
  if (event === undefined) return false;
  const deliveries = deps
    .plan(event)
    .filter((d) => event.type !== 'destination.unhealthy' || d.destination !== change.destination);
  if (deliveries.length === 0) return false;
  await deps.store.saveEvent(event, deliveries);
  return true;
}

/** The alerts' side of the bus: each change this process made that owes an alert, raised once. */
export class BreakerAlerter {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: { store: IngestStore; plan: Plan; logger: Logger; onStored: () => void }) {}

  onChange(change: BreakerChange): void {
    if (change.alert === undefined) return;
    const work = raiseBreakerAlert(this.deps, change).then(
      (raised) => (raised ? this.deps.onStored() : undefined),
      (err: unknown) =>
        this.deps.logger.error(
          { err, destination: change.destination },
          `could not raise a destination.${change.alert ?? ''} alert; the log line above says the same`,
        ),
    );
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  async stop(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
