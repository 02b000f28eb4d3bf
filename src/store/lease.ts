import { HELD_COLUMN } from './breakers';
import { LOCK_SPACE } from './locks';
import { dueSomewhere, routesInTurn } from './ordering';
import { lockNames, rows, type Dialect, type Script } from './sql';
import type { EventInsert } from './writes';
import { mayLease, type LinePlace } from '../delivery/decisions';
import type { IngestLease, NewDelivery } from '../delivery/types';

/**
 * The deliveries of events whose writer asked for a lease go in flight to it, as far as each destination's
 * maxInFlight allows across processes: counted in the same transaction (PostgreSQL: under per-destination locks taken
 * in name order, after every key row, so a holder of these locks never waits for a key another batch holds). Past
 * maxInFlight, up to the lease's handOff while no other owner holds a live lease on the destination: then the owner
 * alone can send to it, and bounds its sends itself. A destination with deliveries already waiting gets none leased:
 * they go first (claims are oldest first).
 */
export function* leaseAtIngest(
  d: Dialect,
  writes: readonly { event: { id: string }; lease?: IngestLease | undefined }[],
  planned: readonly { i: number; routes: readonly NewDelivery[] }[],
  now: number,
  places: ReadonlyMap<string, LinePlace>,
): Script<Map<number, NonNullable<EventInsert['leased']>>> {
  const leases = new Map<number, NonNullable<EventInsert['leased']>>();
  const sendable = (r: NewDelivery) => r.silencedBy === undefined && r.groupKey === undefined;
  const asking = planned.filter(({ i, routes }) => writes[i]?.lease !== undefined && routes.some(sendable));
  if (asking.length === 0) return leases;
  const destinations = [...new Set(asking.flatMap(({ routes }) => routes.filter(sendable).map((r) => r.destination)))];
  yield* lockNames(d, LOCK_SPACE.destination, destinations);
  // One process writes a batch, so its leases name one owner: the hand-off is counted for that one.
  const owner = (writes[asking[0]?.i ?? 0]?.lease as IngestLease).owner;
  const busy = yield* rows<{ destination: string; n: number; mine: number; waiting: number; held: number }>(
    `SELECT r.destination,
       (SELECT count(*) FROM deliveries WHERE state = 'inflight' AND destination = r.destination
          AND lease_until_ms >= ?) AS n,
       (SELECT count(*) FROM deliveries WHERE state = 'inflight' AND destination = r.destination
          AND lease_until_ms >= ? AND lease_owner = ?) AS mine,
       ${dueSomewhere(d, 'r.destination')} AS waiting, ${HELD_COLUMN}
     FROM :rows AS r`,
    { columns: [['destination', 'text']], rows: destinations.map((n) => [n]) },
    [now, now, owner, now, now],
  );
  // An open or paused destination's breaker decides when its deliveries go: none is leased here.
  const inFlight = new Map(
    busy.map((b) => [b.destination, Number(b.waiting) > 0 || Number(b.held) > 0 ? Infinity : Number(b.n)]),
  );
  const othersHold = new Set(busy.filter((b) => Number(b.n) > Number(b.mine)).map((b) => b.destination));
  // Ordered destinations: a payout's next delivery is leased only when its turn has come (src/store/ordering.ts).
  const turns = yield* routesInTurn(
    planned.map(({ i, routes }) => ({ routes, place: places.get((writes[i] as { event: { id: string } }).event.id) })),
  );
  for (const { i, routes } of asking) {
    const lease = writes[i]?.lease as IngestLease;
    const handOff = lease.owner === owner ? lease.handOff : undefined;
    const ids = new Set<string>();
    for (const r of routes.filter(sendable)) {
      if (!turns.has(r.id)) continue;
      const count = inFlight.get(r.destination) ?? 0;
      if (!mayLease(lease, handOff, r.destination, { inFlight: count, othersHold: othersHold.has(r.destination) })) {
        continue;
      }
      inFlight.set(r.destination, count + 1);
      ids.add(r.id);
    }
    leases.set(i, { owner: lease.owner, untilMs: lease.untilMs, ids });
  }
  return leases;
}
