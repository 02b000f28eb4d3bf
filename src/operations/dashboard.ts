import { silenceState } from '../alerts/silence-match';
import { isStuckCheckOn, stuckCutoffs, type StuckWaits } from '../payouts/stuck-after';
import type { DashboardStore, InspectStore, PayoutStore, QueueState, SilenceStore } from '../store/store';
import type { DestinationActivity } from '../store/types';
import type { CallbackMinute } from '../ingest/types';

export interface DashboardDeps {
  store: InspectStore & DashboardStore & PayoutStore & SilenceStore;
  /** The stuck check's waits per state and partner: what the stuck count calls stuck. */
  stuckWaits: StuckWaits;
}

/** What the overview shows, read at one instant. */
export interface Overview {
  /** Callbacks per minute since an hour ago (minutes with none absent). */
  minutes: CallbackMinute[];
  queue: QueueState;
  lastEventAt: string | undefined;
  lastRejectionAt: string | undefined;
  openPayouts: number;
  /** Undefined when the stuck check is off. */
  stuckPayouts: number | undefined;
  payoutsWithAnomalies: number;
  activeSilences: number;
}

/** The reads and writes only the dashboard makes: its overview, destinations' last outcomes, its chart, sessions. */
export class DashboardOperations {
  constructor(private readonly deps: DashboardDeps) {}

  async readOverview(now: number): Promise<Overview> {
    const { store, stuckWaits } = this.deps;
    const stuckOn = isStuckCheckOn(stuckWaits);
    const [minutes, queue, [lastEvent], [lastRejection], open, stuck, anomalies, current] = await Promise.all([
      store.readCallbackMinutes(now - 60 * 60_000),
      store.readQueueState(),
      store.listEvents({ type: 'payout', limit: 1 }),
      store.listRejections({ limit: 1 }),
      store.countPayouts({ open: true }),
      stuckOn ? store.countPayouts({ open: true, stuck: stuckCutoffs(stuckWaits, now) }) : undefined,
      store.countPayouts({ anomalies: true }),
      store.listCurrentSilences(now),
    ]);
    return {
      minutes,
      queue,
      lastEventAt: lastEvent?.receivedAt,
      lastRejectionAt: lastRejection?.receivedAt,
      openPayouts: open,
      stuckPayouts: stuck,
      payoutsWithAnomalies: anomalies,
      activeSilences: current.filter((s) => silenceState(s, now) === 'active').length,
    };
  }

  /** The queue by destination and state, and each destination's last success and error on record. */
  async readDestinations(): Promise<{ queue: QueueState; activity: DestinationActivity[] }> {
    const [queue, activity] = await Promise.all([
      this.deps.store.readQueueState(),
      this.deps.store.readDestinationActivity(),
    ]);
    return { queue, activity };
  }

  /** The chart's counts, added to every process's shared totals (minutes before `pruneBeforeMs` dropped). */
  addCallbackMinutes(counts: readonly CallbackMinute[], pruneBeforeMs: number): Promise<void> {
    return this.deps.store.addCallbackMinutes(counts, pruneBeforeMs);
  }

  /** A signed-out session's cookie is refused by every process until it would have expired. */
  endSession(sessionId: string, expiresMs: number): Promise<void> {
    return this.deps.store.endSession(sessionId, expiresMs);
  }

  isSessionEnded(sessionId: string): Promise<boolean> {
    return this.deps.store.isSessionEnded(sessionId);
  }
}
