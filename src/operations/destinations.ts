import { raiseBreakerAlert } from '../alerts/breaker';
import type { BreakerChange, BreakerState, NewDelivery } from '../delivery/types';
import { resolveBreaker } from '../destinations/breaker';
import type { DestinationsConfig } from '../destinations/schema';
import type { RelayEvent } from '../event';
import type { Logger } from '../log';
import type { BreakerStore, DashboardStore, IngestStore, InspectStore } from '../store/store';
import { NotFoundError, RefusedError } from './errors';

/** One destination as `skyrelay destinations`, GET /admin/destinations and the dashboard show it. */
export interface DestinationStatus {
  name: string;
  /** Undefined for a name that has deliveries or a state on record but is no longer configured. */
  type: 'slack' | 'email' | 'webhook' | undefined;
  state: BreakerState;
  /** Why it is open or paused: failures in a row, a 410 Gone, or by hand. */
  reason: 'failures' | 'gone' | 'manual' | null;
  /** When it opened or was paused (ISO). */
  since: string | null;
  pausedBy: string | null;
  /** Open: when the next probe may go (ISO). */
  nextProbeAt: string | null;
  /** Failures in a row so far (closed), or that opened it. */
  failures: number;
  /** The breaker's settings: undefined when it has none. */
  breaker: { failures: number; probeIntervalMs: number } | undefined;
  /** Deliveries waiting (pending or in flight), and dead ones. */
  backlog: number;
  dead: number;
  lastSuccessAt: string | null;
  lastErrorAt: string | null;
  lastError: string | null;
  lastErrorStatus: number | null;
}

/** What a pause or resume did: the state now, and whether it changed anything. */
export interface DestinationAction {
  destination: string;
  state: BreakerState;
  changed: boolean;
  /** Deliveries waiting for it at the change. */
  backlog: number;
  /** The alert it raised (a resume after an outage raises destination.recovered). */
  alert: 'unhealthy' | 'recovered' | null;
}

export interface DestinationDeps {
  store: BreakerStore & InspectStore & DashboardStore & IngestStore;
  destinations: DestinationsConfig;
  plan: (event: RelayEvent) => NewDelivery[];
  logger: Logger;
  /** Wakes this process's delivery worker after a resume (a CLI has none: workers poll, PostgreSQL notifies). */
  wake?: (() => void) | undefined;
  now: () => number;
}

const iso = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(ms).toISOString());

/**
 * Destinations' state and the hand on their breakers, written once for the CLI, the admin API and the dashboard:
 * a paused destination takes new deliveries and sends none until resumed; a resume closes an open breaker too.
 */
export class DestinationOperations {
  constructor(private readonly deps: DestinationDeps) {}

  async list(): Promise<DestinationStatus[]> {
    const { store, destinations } = this.deps;
    const [breakers, queue, activity] = await Promise.all([
      store.readBreakers(),
      store.readQueueState(),
      store.readDestinationActivity(),
    ]);
    const names = [
      ...new Set([
        ...Object.keys(destinations),
        ...breakers.map((b) => b.destination),
        ...queue.byDestination.map((q) => q.destination),
      ]),
    ].sort();
    const count = (name: string, states: string[]): number =>
      queue.byDestination
        .filter((r) => r.destination === name && states.includes(r.state))
        .reduce((n, r) => n + r.count, 0);
    return names.map((name) => {
      const config = Object.hasOwn(destinations, name) ? destinations[name] : undefined;
      const b = breakers.find((x) => x.destination === name);
      const a = activity.find((x) => x.destination === name);
      return {
        name,
        type: config?.type,
        state: b?.state ?? 'closed',
        reason: b?.state === 'closed' ? null : (b?.reason ?? null),
        since: b?.state === 'closed' ? null : iso(b?.sinceMs),
        pausedBy: b?.state === 'paused' ? (b.pausedBy ?? null) : null,
        nextProbeAt: b?.state === 'open' ? iso(b.probeMs) : null,
        failures: b?.failures ?? 0,
        breaker: config ? resolveBreaker(config) : undefined,
        backlog: count(name, ['pending', 'inflight']),
        dead: count(name, ['dead']),
        lastSuccessAt: a?.lastSuccessAt ?? null,
        lastErrorAt: a?.lastErrorAt ?? iso(b?.lastErrorMs),
        lastError: a?.lastError ?? b?.lastErrors[0] ?? null,
        lastErrorStatus: a?.lastErrorStatus ?? null,
      };
    });
  }

  /** Sends nothing to `name` until resumed, in every process; its deliveries wait pending. */
  async pause(name: string, by: string): Promise<DestinationAction> {
    this.requireConfigured(name);
    const change = await this.deps.store.pauseSends({ destination: name, now: this.deps.now(), reason: 'manual', by });
    this.deps.logger.warn({ destination: name, by }, 'destination paused by hand');
    return this.report(name, 'paused', change);
  }

  /** Sends again: a paused or open destination closes, its backlog due now (oldest first). */
  async resume(name: string, by: string): Promise<DestinationAction> {
    this.requireConfigured(name);
    const change = await this.deps.store.resumeSends(name, this.deps.now(), by);
    if (change === undefined) throw new RefusedError(`destination "${name}" is not paused or open: nothing to resume`);
    this.deps.logger.info({ destination: name, by }, 'destination resumed by hand');
    if (change?.alert !== undefined) await this.raise(change);
    this.deps.wake?.();
    return this.report(name, 'closed', change);
  }

  private async raise(change: BreakerChange): Promise<void> {
    try {
      await raiseBreakerAlert(this.deps, change);
    } catch (err) {
      // The resume itself is done; the log line says so either way.
      this.deps.logger.error({ err, destination: change.destination }, 'could not raise a destination alert');
    }
  }

  private report(name: string, state: BreakerState, change: BreakerChange | undefined): DestinationAction {
    return {
      destination: name,
      state,
      changed: change !== undefined,
      backlog: change?.backlog ?? 0,
      alert: change?.alert ?? null,
    };
  }

  private requireConfigured(name: string): void {
    if (Object.hasOwn(this.deps.destinations, name)) return;
    const known = Object.keys(this.deps.destinations);
    throw new NotFoundError(`no destination "${name}" (configured: ${known.length ? known.join(', ') : 'none'})`);
  }
}
