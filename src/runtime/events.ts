import type { AttemptReport, BreakerChange } from '../delivery/types';
import type { AuthRefusal, AuthSurface } from '../http/types';
import type { CallbackOutcome } from '../ingest/types';
import type { Logger } from '../log';
import type { PayoutAnomalyKind, RelayEvent } from '../event';
import type { StatusQueryOutcome } from '../payouts/types';
import type { NewDelivery } from '../delivery/types';
import type { NewRejection, SaveOutcome } from '../ingest/types';
import type { ReconciliationOutcome } from '../payouts/types';

/** What happens in the daemon that metrics, alerts (and tests) want to hear of, by name. */
export interface RuntimeEventMap {
  /** A callback got its answer: what it was, and how long it took (ms). */
  'callback.outcome': { outcome: CallbackOutcome; ms: number };
  /** A callback was rejected (a row may or may not be kept: see the rejection keeper). */
  'callback.rejection': NewRejection;
  /** A callback's event was committed (or found a duplicate): with the deliveries written in its transaction. */
  'event.stored': { event: RelayEvent; outcome: SaveOutcome; deliveries: NewDelivery[] };
  /** One try of a delivery finished, whatever its result. */
  'delivery.attempt': AttemptReport;
  /** This process moved a destination's breaker (opened, closed, paused by a 410): it owes the change's alert. */
  'destination.breaker': BreakerChange;
  /** The SQLite file was removed or replaced under the running daemon. */
  'store.lost': { reason: string };
  /** One SkyPay status query (reconciliation) ended: ok, or why not. */
  'status.query': { outcome: StatusQueryOutcome };
  /** Reconciliation acted on SkyPay's answer for one payout. */
  'payout.reconciled': { outcome: ReconciliationOutcome; anomaly: PayoutAnomalyKind | undefined };
  /** A credential was refused (wrong, or not checked because its address is locked out). */
  'auth.refused': { surface: AuthSurface; outcome: AuthRefusal };
}

export type RuntimeEventName = keyof RuntimeEventMap;
type Listener<K extends RuntimeEventName> = (payload: RuntimeEventMap[K]) => void;

/**
 * A small typed event bus. Listeners run synchronously in subscription order; one that throws is logged and does
 * not stop the others nor the code that emitted (a metric must never fail a callback).
 */
export class RuntimeEvents {
  private readonly listeners = new Map<RuntimeEventName, Set<Listener<never>>>();

  constructor(private readonly logger: Logger) {}

  /** Returns the unsubscribe function. */
  on<K extends RuntimeEventName>(name: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends RuntimeEventName>(name: K, payload: RuntimeEventMap[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of set) {
      try {
        (listener as Listener<K>)(payload);
      } catch (err) {
        this.logger.error({ err, event: name }, 'a listener failed; the others still ran');
      }
    }
  }
}
