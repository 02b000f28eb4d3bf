import type { ClaimedDelivery } from './types';

/**
 * What bounds the memory of the hand-off: at most this many deliveries handed over by ingest wait in memory for a
 * send slot, all destinations together. Past it, ingest writes deliveries pending and claims take them later.
 */
export const MAX_HANDED = 4096;
/**
 * How many deliveries to one destination this process may hold leased (being sent, or waiting in memory), where
 * the store lets a lease at ingest go past the destination's maxInFlight (IngestLease.handOff): a slow receiver
 * fills its own share, not the whole hand-off.
 */
export const HAND_OFF_PER_DESTINATION = 1024;
/** A delivery handed over is not started once its lease, as this process last renewed it, ends within this part. */
export const LEASE_MARGIN = 1 / 8;

/**
 * The deliveries ingest leased to this process, waiting in memory for a send slot, and the sends running now, by
 * destination: a destination's waiting deliveries start oldest first, at most its maxInFlight at once.
 */
export class HandOff {
  private readonly waiting = new Map<string, ClaimedDelivery[]>();
  private readonly sending = new Map<string, number>();
  /** How many wait, all destinations together. */
  size = 0;

  add(deliveries: readonly ClaimedDelivery[]): void {
    for (const d of deliveries) {
      const queue = this.waiting.get(d.destination);
      if (queue) queue.push(d);
      else this.waiting.set(d.destination, [d]);
    }
    this.size += deliveries.length;
  }

  /**
   * Takes out what may start now: per destination oldest first while fewer than `limitOf(destination)` of its
   * sends run, at most `room` in all. A destination still waiting when room ran out goes to the back, so
   * destinations take turns.
   */
  takeStartable(room: number, limitOf: (destination: string) => number): ClaimedDelivery[] {
    const taken: ClaimedDelivery[] = [];
    const passed: [string, ClaimedDelivery[]][] = [];
    for (const [name, queue] of this.waiting) {
      if (taken.length >= room) break;
      const free = limitOf(name) - (this.sending.get(name) ?? 0);
      const n = Math.min(free, room - taken.length, queue.length);
      if (n > 0) taken.push(...queue.splice(0, n));
      if (queue.length === 0) this.waiting.delete(name);
      else if (taken.length >= room) passed.push([name, queue]);
    }
    for (const [name, queue] of passed) {
      this.waiting.delete(name);
      this.waiting.set(name, queue);
    }
    this.size -= taken.length;
    return taken;
  }

  /** Everything still waiting, taken out (a stop). */
  takeAll(): ClaimedDelivery[] {
    const all = [...this.waiting.values()].flat();
    this.waiting.clear();
    this.size = 0;
    return all;
  }

  /** A send to `destination` started (handed over or claimed). */
  started(destination: string): void {
    this.sending.set(destination, (this.sending.get(destination) ?? 0) + 1);
  }

  /** A send to `destination` ended. */
  ended(destination: string): void {
    const left = (this.sending.get(destination) ?? 1) - 1;
    if (left > 0) this.sending.set(destination, left);
    else this.sending.delete(destination);
  }
}
