import {
  ROUTE_ENDS,
  type Ledger,
  type LedgerCounts,
  type LedgerRoutes,
  type RouteCounts,
  type Unexplained,
} from './types';

/**
 * Whether a day's counts balance, and the ledger the fronts show. Pure: the store counted, this judges.
 *
 * - callbacks: every callback answered 1000 is a new event from a callback, a duplicate or a conflicting copy;
 * - routes, per destination: every route row ended in exactly one of delivered, deliveredInGroup, silenced, dead,
 *   pending, inflight.
 *
 * A sum that does not hold without a row to blame is listed too (kind `balance`), so `balanced` is true only when
 * every equation holds and nothing is unexplained.
 */

const DAY_MS = 86_400_000;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface LedgerDay {
  day: string;
  startMs: number;
  endMs: number;
}

/** The day `day` (YYYY-MM-DD) in a zone `offsetMinutes` ahead of UTC; undefined when it is no calendar day. */
export function dayWindow(day: string, offsetMinutes: number): LedgerDay | undefined {
  const m = DAY.exec(day);
  if (!m) return undefined;
  const [y, mo, d] = m.slice(1).map(Number) as [number, number, number];
  const local = new Date(0);
  local.setUTCFullYear(y, mo - 1, d);
  if (local.getUTCFullYear() !== y || local.getUTCMonth() !== mo - 1 || local.getUTCDate() !== d) return undefined;
  const startMs = local.getTime() - offsetMinutes * 60_000;
  return { day, startMs, endMs: startMs + DAY_MS };
}

/** The day (YYYY-MM-DD) an instant falls on in the zone. */
export function dayOf(ms: number, offsetMinutes: number): string {
  return new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 10);
}

/** The day before the one `now` falls on: what the ledger shows when no day is given. */
export function yesterdayOf(now: number, offsetMinutes: number): string {
  return dayOf(now - DAY_MS, offsetMinutes);
}

export interface LedgerScope {
  day: LedgerDay;
  timezone: string;
  partner: string | undefined;
  now: number;
}

function toLedgerRoutes(r: RouteCounts, now: number): LedgerRoutes {
  const { oldestPendingMs, ...counts } = r;
  const oldestPendingSeconds =
    oldestPendingMs === null ? null : Math.max(0, Math.floor((now - oldestPendingMs) / 1000));
  return { ...counts, oldestPendingSeconds };
}

/**
 * The equations that do not hold by more than the rows the store named explain, as rows of kind `balance`: a sum
 * off with no row to blame (a tally without its events, a route row gone) is listed as well.
 */
export function findImbalances(counts: LedgerCounts): Unexplained[] {
  const found: Unexplained[] = [];
  const c = counts.callbacks;
  const fromCallbacks = counts.events.callback;
  const named = (test: (u: Unexplained) => boolean) => counts.unexplained.filter(test).length;
  const missing = c.accepted - (fromCallbacks + c.duplicates + c.conflictingCopies);
  if (missing !== 0 && missing !== named((u) => u.kind === 'callback')) {
    found.push({
      kind: 'balance',
      id: 'callbacks',
      why:
        `${c.accepted} callbacks accepted, but ${fromCallbacks} events from callbacks + ${c.duplicates} duplicates + ` +
        `${c.conflictingCopies} conflicting copies = ${fromCallbacks + c.duplicates + c.conflictingCopies}`,
    });
  }
  for (const [destination, r] of Object.entries(counts.routes)) {
    const ended = ROUTE_ENDS.reduce((sum, end) => sum + r[end], 0);
    if (ended !== r.routed && r.routed - ended !== named((u) => u.destination === destination)) {
      found.push({
        kind: 'balance',
        id: `routes.${destination}`,
        why: `${r.routed} routes to ${destination}, but ${ended} reached an end (${ROUTE_ENDS.join(' + ')})`,
      });
    }
  }
  return found;
}

/** The day's ledger from the store's counts. */
export function buildLedger(counts: LedgerCounts, scope: LedgerScope): Ledger {
  const { accepted, duplicates, conflictingCopies, rejected, suppressed } = counts.callbacks;
  const unexplained = [...counts.unexplained, ...findImbalances(counts)];
  const routes: Record<string, LedgerRoutes> = {};
  for (const [destination, r] of Object.entries(counts.routes)) routes[destination] = toLedgerRoutes(r, scope.now);
  return {
    day: scope.day.day,
    timezone: scope.timezone,
    partner: scope.partner ?? null,
    from: new Date(scope.day.startMs).toISOString(),
    to: new Date(scope.day.endMs).toISOString(),
    callbacks: { accepted, duplicates, conflictingCopies, rejected, suppressed },
    events: counts.events,
    routes,
    payouts: counts.payouts,
    unexplained,
    balanced: unexplained.length === 0,
  };
}

/** Totals over every destination: the daily summary's short table. */
export function totalRoutes(ledger: Ledger): LedgerRoutes {
  const total: LedgerRoutes = {
    routed: 0,
    delivered: 0,
    deliveredInGroup: 0,
    silenced: 0,
    dead: 0,
    pending: 0,
    inflight: 0,
    replayed: 0,
    oldestPendingSeconds: null,
  };
  for (const r of Object.values(ledger.routes)) {
    for (const key of ['routed', ...ROUTE_ENDS, 'replayed'] as const) total[key] += r[key];
    if (r.oldestPendingSeconds !== null) {
      total.oldestPendingSeconds = Math.max(total.oldestPendingSeconds ?? 0, r.oldestPendingSeconds);
    }
  }
  return total;
}
