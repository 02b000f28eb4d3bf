import type { Plan } from '../routing/plan';
import { createId } from '../ids';
import type { Logger } from '../log';
import { scrubSenderText } from '../skypay/scrub';
import type { AlertWindowStore, ClusterJobs, IngestStore } from '../store/store';
import type { NewDelivery } from '../delivery/types';
import type { NewRejection } from '../ingest/types';
import { buildFoldedSummaryEvent, buildRejectionEvent } from './build';

export interface RejectionAlertDeps {
  store: IngestStore & AlertWindowStore & ClusterJobs;
  /** The rules' choice for an event (the daemon's planner), with fresh delivery ids. */
  plan: Plan;
  secrets: readonly string[];
  windowMs: number;
  logger: Logger;
  /** Told after an alert is stored, to wake the delivery worker. */
  onStored: () => void;
  now?: () => number;
}

/**
 * Turns rejected callbacks into `rejection` events, at most one per reason
 * per destination per window; rejections folded into a window are sent as one
 * summary (`folded: N`) when it closes. Never throws into the callback path.
 */
/** The lock that keeps two processes from closing the alert windows at once. */
export const ALERT_WINDOW_JOB = 'alert-windows';

export class RejectionAlerter {
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: RejectionAlertDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    // Closing windows a little after they expire is enough; the count is exact either way.
    const every = Math.min(10_000, Math.max(100, Math.floor(this.deps.windowMs / 6)));
    this.timer = setInterval(() => this.track(this.sendSummaries()), every);
    this.timer.unref();
  }

  onRejected(rejection: NewRejection): void {
    this.track(this.alert(rejection));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(work: Promise<void>): void {
    const guarded = work.catch((err: unknown) => this.deps.logger.error({ err }, 'could not raise a rejection alert'));
    this.pending.add(guarded);
    void guarded.finally(() => this.pending.delete(guarded));
  }

  private async alert(rejection: NewRejection): Promise<void> {
    const event = buildRejectionEvent(rejection, this.deps.secrets);
    const planned = this.deps.plan(event);
    if (planned.length === 0) return;
    const masked = { ...rejection, description: scrubSenderText(rejection.description, this.deps.secrets) };
    const admitted = await this.deps.store.admitRejectionAlert(
      masked,
      planned.map((p) => p.destination),
      this.now(),
      this.deps.windowMs,
    );
    // Destinations whose expired window still held folded rejections hear the count with this alert.
    const byFolded = new Map<number, NewDelivery[]>();
    for (const a of admitted) {
      const delivery = planned.find((p) => p.destination === a.destination);
      if (delivery) byFolded.set(a.folded, [...(byFolded.get(a.folded) ?? []), delivery]);
    }
    for (const [folded, deliveries] of byFolded) {
      const copy = byFolded.size === 1 ? event : { ...event, id: createId('evt'), data: { ...event.data } };
      if (folded > 0) copy.data['folded'] = folded;
      await this.deps.store.saveEvent(copy, deliveries);
    }
    if (byFolded.size > 0) this.deps.onStored();
  }

  /** In one process at a time (pm2 cluster workers): each closed window's summary is sent once. */
  private async sendSummaries(): Promise<void> {
    await this.deps.store.runExclusive(ALERT_WINDOW_JOB, () => this.closeWindows());
  }

  private async closeWindows(): Promise<void> {
    const now = this.now();
    const closed = await this.deps.store.closeExpiredAlertWindows(now, this.deps.windowMs);
    for (const w of closed) {
      const event = buildFoldedSummaryEvent(w, new Date(now));
      // Re-planned so the rule names are current; sent only to the window's own destination.
      const deliveries = this.deps.plan(event).filter((p) => p.destination === w.destination);
      if (deliveries.length > 0) await this.deps.store.saveEvent(event, deliveries);
    }
    if (closed.length > 0) this.deps.onStored();
  }
}
