import type { RelayEvent } from '../event';
import type { ClaimOptions, IngestLease, NewDelivery } from './types';

/**
 * Pure decisions of ordered delivery and breakers that the store executes inside its transactions (a claim, the
 * ingest hand-off, a replay): which line a delivery stands in, the places a batch's events take, which deliveries of
 * a batch may go together, and how much an open or paused destination may be sent. No I/O: the store reads the rows
 * and hands them in (src/store/ordering.ts, src/store/outbox.ts).
 */

/** A payout's line key: its partner and control number. Only payout statuses have one. */
export function payoutKeyOf(event: RelayEvent): string | undefined {
  return event.source === 'skypay' && event.type === 'payout'
    ? JSON.stringify([event.partner, event.controlNumber])
    : undefined;
}

/** An event's place among its payout's ordered events. */
export interface LinePlace {
  key: string;
  seq: number;
}

/** A route that stands in a line: sent to its destination (not silenced, not grouped) and marked ordered. */
export function isOrderedRoute(r: NewDelivery): boolean {
  return r.ordered === true && r.silencedBy === undefined && r.groupKey === undefined;
}

/**
 * The places of events in a batch, given each payout's count before it: numbered on in the order given (the order
 * they are stored in), an event without an ordered route left out.
 */
export function numberInBatch(
  events: readonly { id: string; key: string | undefined; ordered: boolean }[],
  lastBefore: ReadonlyMap<string, number>,
): Map<string, LinePlace> {
  const next = new Map(lastBefore);
  const places = new Map<string, LinePlace>();
  for (const { id, key, ordered } of events) {
    if (key === undefined || !ordered) continue;
    const seq = (next.get(key) ?? 0) + 1;
    next.set(key, seq);
    places.set(id, { key, seq });
  }
  return places;
}

/** A route about to be written, and the line it would stand in. */
export interface LineCandidate {
  id: string;
  destination: string;
  /** Its payout's line key when it is ordered; undefined when it stands in no line. */
  key: string | undefined;
}

/** One line per destination and payout. */
export const lineOf = (c: { destination: string; key: string }): string => `${c.destination}\n${c.key}`;

/**
 * The one-at-a-time rule over deliveries about to go out together (one claim, one batch's hand-off), in the order
 * they would go: of each line, only the first may go, and none of a line already `busy`. A delivery in no line
 * always may. What the store's SQL decides against the stored rows, this decides within the batch.
 */
export function admitInTurn<T extends LineCandidate>(candidates: readonly T[], busy: ReadonlySet<string>): T[] {
  const seen = new Set(busy);
  const admitted: T[] = [];
  for (const c of candidates) {
    if (c.key === undefined) {
      admitted.push(c);
      continue;
    }
    const line = lineOf({ destination: c.destination, key: c.key });
    if (seen.has(line)) continue;
    seen.add(line);
    admitted.push(c);
  }
  return admitted;
}

/** An open or paused destination, as a claim sees it. */
export interface Hold {
  state: 'open' | 'paused';
  probeMs: number;
  probeIntervalMs: number;
}

/**
 * How many of a destination's pending deliveries a claim may read: unlimited (undefined) when it is closed, none when
 * paused, and when open one probe once its slot has come and no send to it is in flight anywhere.
 */
export function probeRoom(hold: Hold | undefined, now: number, inFlight: number): number | undefined {
  if (hold === undefined) return undefined;
  if (hold.state === 'paused' || hold.probeMs > now || inFlight > 0) return 0;
  return 1;
}

/** What an ingest transaction knows of a destination when it leases: live leases on it, and whose. */
export interface LeaseCount {
  /** Deliveries to it in flight under a live lease, the ones this batch leased so far included. */
  inFlight: number;
  /** Another owner holds a live lease on it: then only maxInFlight counts, never the hand-off. */
  othersHold: boolean;
}

/**
 * Whether ingest may lease one more delivery to `destination` to the lease's owner: within maxInFlight across all
 * processes, or past it up to the owner's hand-off while no other owner holds a live lease there (the owner alone
 * sends to it then, at most maxInFlight at once, and keeps the rest in memory). `handOff` is undefined where the
 * batch's writer is not the lease's owner.
 */
export function mayLease(
  lease: Pick<IngestLease, 'maxInFlight'>,
  handOff: IngestLease['handOff'],
  destination: string,
  count: LeaseCount,
): boolean {
  if (count.inFlight < lease.maxInFlight(destination)) return true;
  return handOff !== undefined && !count.othersHold && count.inFlight < handOff(destination);
}

/**
 * Which due deliveries one claim takes, in the order given (oldest first): one per payout's line, within each
 * destination's maxInFlight as counted in `inFlight` (live leases of every process), and only where its rate slot
 * (`slots`: the next send allowed, per destination) has come. Taking a rate-limited delivery sets the next slot;
 * `inFlight` and `slots` are updated, and the slots taken are returned for the store to record for other claimers.
 */
export function chooseClaimed<T extends LineCandidate>(
  due: readonly T[],
  inFlight: Map<string, number>,
  slots: Map<string, number>,
  o: Pick<ClaimOptions, 'max' | 'maxInFlight' | 'now' | 'minIntervalMs'>,
): { chosen: T[]; taken: Map<string, number> } {
  const chosen: T[] = [];
  const taken = new Map<string, number>();
  for (const row of admitInTurn(due, new Set())) {
    if (chosen.length >= o.max) break;
    const busy = inFlight.get(row.destination) ?? 0;
    if (busy >= o.maxInFlight(row.destination)) continue;
    // Paused (a 429) or rate-limited: its slot must have come, and taking it sets the next one.
    if ((slots.get(row.destination) ?? 0) > o.now) continue;
    const interval = o.minIntervalMs?.(row.destination);
    if (interval !== undefined) {
      slots.set(row.destination, o.now + interval);
      taken.set(row.destination, o.now + interval);
    }
    inFlight.set(row.destination, busy + 1);
    chosen.push(row);
  }
  return { chosen, taken };
}
