import {
  isFinalState,
  type PayoutAnomalyKind,
  type PayoutEvent,
  type PayoutState,
  type RelayEvent,
  type SystemEvent,
} from '../event';
import type { Logger } from '../log';
import { Periodic } from '../periodic';
import {
  StatusQueryError,
  StatusQueryRejectedError,
  StatusQueryRequestError,
  StatusQueryTimeoutError,
  StatusQueryTransportError,
  type QueriedPayout,
  type StatusQueryClient,
} from '../skypay/status-query';
import type { DealTimeWindow } from '../skypay/time';
import type { ClusterJobs, IngestStore, PayoutStore } from '../store/store';
import type { NewReconciliation, PayoutPolicy, ReconciliationOutcome } from './types';
import type { PayoutDetail } from '../store/types';
import type { SaveOutcome } from '../ingest/types';
import { interpretQueriedStatus, type QueriedMeaning } from './queried-status';
import {
  buildConfirmedEvent,
  buildMissedEvent,
  buildOutOfWindowAnomaly,
  buildReconciliationAnomaly,
  buildUnconfirmedAnomaly,
  checkAnswerTimes,
  decide,
  describeMeaning,
  type ConfirmedStatus,
} from './reconcile';

/** The cluster-wide lock (the store's runExclusive): one process of the cluster reconciles at a time. */
export const RECONCILE_JOB = 'payouts.reconcile';
/**
 * Status queries per round at most: batchSize × 20 (1000 payouts at the default 50). Payouts left over stay due
 * and, oldest first, are asked at the next interval; a backlog never turns into a burst of calls to SkyPay.
 */
export const MAX_CALLS_PER_ROUND = 20;

/** How one status query ended, as `skyrelay_status_queries_total{outcome}` counts it. */
export type StatusQueryOutcome = 'ok' | 'rejected' | 'timeout' | 'transport' | 'unreadable' | 'request';

export function classifyQueryError(err: unknown): Exclude<StatusQueryOutcome, 'ok'> {
  if (err instanceof StatusQueryTimeoutError) return 'timeout';
  if (err instanceof StatusQueryRejectedError) return 'rejected';
  if (err instanceof StatusQueryTransportError) return 'transport';
  if (err instanceof StatusQueryRequestError) return 'request';
  return 'unreadable';
}

export interface ReconcilerOptions {
  /** skypay.statusQuery.intervalMs */
  intervalMs: number;
  /** skypay.statusQuery.minAgeMs */
  minAgeMs: number;
  /** skypay.statusQuery.batchSize (at most 50) */
  batchSize: number;
}

export interface ReconcilerDeps {
  store: PayoutStore & ClusterJobs & Pick<IngestStore, 'savePayoutEvent' | 'saveEvent'>;
  client: Pick<StatusQueryClient, 'query'>;
  /** skypay.statusQuery.partner: only its payouts are asked about (the query is made with its credentials). */
  partner: string;
  /** The daemon's payout policy: a missed event is judged, planned and raises anomalies like a callback. */
  policy: PayoutPolicy;
  /** skypay.timezone in minutes: the missed event's dealTimeUtc, and the instants of the answer's times. */
  offsetMinutes: number;
  /** skypay.maxAgeDays and skypay.maxFutureMinutes: the answer's times are held to the window a callback's are. */
  dealTimeWindow?: DealTimeWindow;
  logger: Logger;
  /** Told after each event stored (a missed status, an anomaly): wakes the worker, feeds metrics. */
  onStored?: (event: RelayEvent, outcome: SaveOutcome, deliveries: number) => void;
  /** Told of every status query's outcome. */
  onQuery?: (outcome: StatusQueryOutcome) => void;
  /** Told of every payout's reconciliation outcome (written or not), and the kind of the anomaly it raised if any. */
  onResult?: (outcome: ReconciliationOutcome, anomaly: PayoutAnomalyKind | undefined) => void;
  now?: () => Date;
}

/** One payout's line in a round's report. */
export interface ReconcileItem {
  partner: string;
  controlNumber: string;
  /** What skyrelay held when the answer came; undefined for a payout it never saw. */
  held: PayoutState | undefined;
  status: number | null;
  statusDesc: string;
  /** What SkyPay's status means, in words. */
  meaning: string;
  outcome: ReconciliationOutcome;
  detail: string;
  /** The event created or the anomaly raised (undefined in a dry run). */
  eventId: string | null;
  /** The kind of the payout.anomaly raised for it, if one was (not in a dry run). */
  anomaly?: PayoutAnomalyKind;
}

export interface RoundReport {
  dryRun: boolean;
  calls: number;
  asked: number;
  items: ReconcileItem[];
  /** The query that failed and ended the round early (the rest wait for the next interval). */
  failure?: { outcome: Exclude<StatusQueryOutcome, 'ok'>; message: string };
}

export interface RoundOptions {
  /** Decide and report, write nothing (no event, no anomaly, no reconciliation row). */
  dryRun?: boolean;
  /** Ask about these (any state, known or not) instead of the payouts due (pending confirmations, open payouts). */
  controlNumbers?: readonly string[];
  /** Only payouts not asked about in the last interval: the daemon's rounds. The CLI asks now. */
  dueOnly?: boolean;
}

/**
 * Reconciliation with SkyPay's status query: every intervalMs, in one process of the cluster, asks about the
 * partner's final statuses waiting for confirmation (in their state for more than minAgeMs) and then its open
 * payouts first seen more than minAgeMs ago, each oldest first, batchSize per call, both in the same calls (SkyPay
 * asks for no more than one query per interval), and acts on each answer (see decide() in ./reconcile.ts). What it
 * found is recorded on each payout's timeline; the newest record is also what makes a payout due again, so a
 * cluster asks about each payout once per interval.
 * A failed query (an error code, a timeout, a broken connection, garbage) is logged, counted and ends the round:
 * those payouts stay due and are asked at the next interval.
 */
export class Reconciler {
  readonly name = 'reconciler';
  private readonly periodic: Periodic;

  constructor(
    private readonly deps: ReconcilerDeps,
    private readonly options: ReconcilerOptions,
  ) {
    this.periodic = new Periodic(
      { name: 'reconciliation round', intervalMs: options.intervalMs, logger: deps.logger },
      async () => {
        const report = await this.runExclusive({ dueOnly: true });
        if (report && report.calls > 0) {
          this.deps.logger.info(
            { calls: report.calls, asked: report.asked, failed: report.failure?.outcome },
            'reconciliation round done',
          );
        }
      },
    );
  }

  /** A first round soon after start: payouts asked within the last interval are not due, so a restart asks nothing twice. */
  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One round in this process if it gets the cluster lock; undefined when another process holds it. */
  runExclusive(options: RoundOptions = {}): Promise<RoundReport | undefined> {
    return this.deps.store.runExclusive(RECONCILE_JOB, () => this.round(options));
  }

  /** One round now, without the lock (a dry run writes nothing, so it needs none). */
  async round(options: RoundOptions = {}): Promise<RoundReport> {
    const { store, partner } = this.deps;
    const { batchSize, intervalMs, minAgeMs } = this.options;
    const dryRun = options.dryRun === true;
    const now = this.now();
    const nowMs = now.getTime();
    let targets: string[];
    if (options.controlNumbers !== undefined) targets = [...new Set(options.controlNumbers)];
    else {
      const limit = batchSize * MAX_CALLS_PER_ROUND;
      // A tenth of the interval of slack: the next round, an interval later, finds them due again.
      const notCheckedSinceMs = options.dueOnly ? nowMs - intervalMs + Math.floor(intervalMs / 10) : undefined;
      // Confirmations first: a consumer may be waiting for one before it releases money; open payouts fill the rest.
      const pending = await store.listPendingConfirmations({
        stateSinceBeforeMs: nowMs - minAgeMs,
        limit,
        partner,
        notCheckedSinceMs,
      });
      const open =
        pending.length < limit
          ? await store.listOpenPayouts({
              firstSeenBeforeMs: nowMs - minAgeMs,
              limit: limit - pending.length,
              partner,
              notCheckedSinceMs,
            })
          : [];
      targets = [...pending, ...open].map((p) => p.controlNumber);
    }
    const report: RoundReport = { dryRun, calls: 0, asked: 0, items: [] };
    for (let i = 0; i < targets.length && report.calls < MAX_CALLS_PER_ROUND; i += batchSize) {
      if (this.periodic.stopping) break;
      const chunk = targets.slice(i, i + batchSize);
      report.calls += 1;
      report.asked += chunk.length;
      let result;
      try {
        result = await this.deps.client.query(chunk);
        this.deps.onQuery?.('ok');
      } catch (err) {
        if (!(err instanceof StatusQueryError)) throw err;
        const outcome = classifyQueryError(err);
        this.deps.onQuery?.(outcome);
        // The message names SkyPay's code and description or the connection error: never the key or the body.
        this.deps.logger.warn(
          { outcome, error: err.message, asked: chunk.length },
          "SkyPay's status query failed; these payouts are asked again at the next interval",
        );
        report.failure = { outcome, message: err.message };
        break;
      }
      const items = await this.act(chunk, result.payouts, result.missing, result.unreadable, now, dryRun);
      report.items.push(...items);
      if (!dryRun) {
        await store.recordReconciliations(
          items.map((item): NewReconciliation => ({
            partner: item.partner,
            controlNumber: item.controlNumber,
            checkedMs: nowMs,
            status: item.status,
            statusDesc: item.statusDesc,
            outcome: item.outcome,
            detail: item.detail,
            eventId: item.eventId,
          })),
        );
      }
      for (const item of items) this.deps.onResult?.(item.outcome, item.anomaly);
    }
    return report;
  }

  private async act(
    asked: readonly string[],
    payouts: readonly QueriedPayout[],
    missing: readonly string[],
    unreadable: readonly { controlNumber: string | undefined; reason: string }[],
    now: Date,
    dryRun: boolean,
  ): Promise<ReconcileItem[]> {
    const { partner } = this.deps;
    const wanted = new Set(asked);
    const items: ReconcileItem[] = [];
    for (const queried of payouts) {
      // An item SkyPay sent for a control number not asked, or twice: only the first answer to a question counts.
      if (!wanted.delete(queried.controlNumber)) continue;
      items.push(await this.actOn(queried, now, dryRun));
    }
    for (const u of unreadable) {
      if (u.controlNumber === undefined || !wanted.delete(u.controlNumber)) continue;
      items.push(this.note(u.controlNumber, 'unreadable', `SkyPay's answer for it could not be read: ${u.reason}`));
    }
    for (const controlNumber of missing) {
      if (!wanted.delete(controlNumber)) continue;
      items.push(this.note(controlNumber, 'missing', `left out of SkyPay's answer (${partner} may not know it)`));
    }
    return items;
  }

  private note(controlNumber: string, outcome: 'unreadable' | 'missing', detail: string): ReconcileItem {
    return {
      partner: this.deps.partner,
      controlNumber,
      held: undefined,
      status: null,
      statusDesc: '',
      meaning: outcome === 'missing' ? 'no answer' : 'unreadable',
      outcome,
      detail,
      eventId: null,
    };
  }

  private async actOn(queried: QueriedPayout, now: Date, dryRun: boolean): Promise<ReconcileItem> {
    const { store, partner, policy } = this.deps;
    const meaning = interpretQueriedStatus(queried);
    // Read now, not from the round's listing: a callback may have moved the payout while SkyPay was answering.
    const [found] = await store.getPayouts(queried.controlNumber, partner);
    const held = found?.payout.state;
    const violation = checkAnswerTimes(queried, meaning, now, this.deps.dealTimeWindow ?? {}, this.deps.offsetMinutes);
    const decision = decide(held, meaning, { confirmation: found?.payout.confirmation, violation });
    const base = {
      partner,
      controlNumber: queried.controlNumber,
      held,
      status: queried.status,
      statusDesc: queried.statusDesc,
      meaning: describeMeaning(meaning),
    };
    switch (decision.action) {
      case 'record':
        return { ...base, outcome: decision.outcome, detail: decision.detail, eventId: null };
      case 'out-of-window': {
        const item = { ...base, outcome: 'out-of-window' as const, detail: decision.detail };
        if (dryRun) return { ...item, eventId: null };
        // A payout open for days is asked every interval: the same answer raises once, and is counted on its row.
        const latest = found?.reconciliations[found.reconciliations.length - 1];
        if (latest?.outcome === 'out-of-window' && latest.status === queried.status && latest.detail === item.detail) {
          return { ...item, eventId: latest.eventId };
        }
        const anomaly = buildOutOfWindowAnomaly(
          partner,
          queried.controlNumber,
          held,
          decision.violation,
          queried,
          meaning,
          now,
        );
        await this.raise(anomaly, { controlNumber: queried.controlNumber, violation: decision.violation });
        return { ...item, eventId: anomaly.id, anomaly: 'out-of-window' };
      }
      case 'confirm':
        return this.settle(found, 'confirmed', queried, meaning, now, dryRun, { ...base, detail: decision.detail });
      case 'raise': {
        if (decision.kind === 'unconfirmed') {
          return this.settle(found, 'contradicted', queried, meaning, now, dryRun, {
            ...base,
            detail: decision.detail,
          });
        }
        if (dryRun) return { ...base, outcome: 'contradiction', detail: decision.detail, eventId: null };
        // decide() raises only against a final state skyrelay holds.
        const anomaly = buildReconciliationAnomaly(
          partner,
          queried.controlNumber,
          held ?? 'paid',
          queried,
          meaning,
          now,
        );
        await this.raise(anomaly, { controlNumber: queried.controlNumber, held, queriedStatus: queried.status });
        return {
          ...base,
          outcome: 'contradiction',
          detail: decision.detail,
          eventId: anomaly.id,
          anomaly: 'reconciliation',
        };
      }
      case 'create':
        break;
    }
    if (dryRun) return { ...base, outcome: 'created', detail: decision.detail, eventId: null };
    const event = buildMissedEvent(
      partner,
      queried.controlNumber,
      decision.payType,
      decision.dealTime,
      this.deps.offsetMinutes,
      now,
    );
    const outcome = await store.savePayoutEvent(event, policy);
    this.deps.onStored?.(event, outcome, outcome.duplicate ? 0 : 1);
    if (outcome.duplicate) {
      return { ...base, outcome: 'duplicate', detail: `${decision.detail}; already stored`, eventId: outcome.eventId };
    }
    const t = outcome.transition;
    const moved = t ? `; ${t.kind} ${t.from ?? '—'} → ${t.to}` : '';
    this.deps.logger.info(
      { partner, controlNumber: queried.controlNumber, status: event.status, eventId: event.id },
      'reconciliation stored a status no callback brought',
    );
    return { ...base, outcome: 'created', detail: `${decision.detail}${moved}`, eventId: event.id };
  }

  /**
   * SkyPay's answer settles a final status that waited for confirmation: `confirmed` stores payout.confirmed,
   * `contradicted` a payout.anomaly of kind unconfirmed, each with the payout's new confirmation in one transaction.
   * Another process (a `skyrelay reconcile` beside the daemon) may have settled it first: then nothing is stored.
   */
  private async settle(
    found: PayoutDetail | undefined,
    confirmation: 'confirmed' | 'contradicted',
    queried: QueriedPayout,
    meaning: QueriedMeaning,
    now: Date,
    dryRun: boolean,
    base: Omit<ReconcileItem, 'outcome' | 'eventId'>,
  ): Promise<ReconcileItem> {
    const outcome = confirmation === 'confirmed' ? 'confirmed' : 'contradiction';
    if (dryRun || !found) return { ...base, outcome, eventId: null };
    const { store, policy, partner } = this.deps;
    const state = found.payout.state;
    const status: ConfirmedStatus = {
      partner,
      controlNumber: queried.controlNumber,
      state,
      event: finalStatusOf(found),
    };
    const event =
      confirmation === 'confirmed'
        ? buildConfirmedEvent(status, queried, meaning, now)
        : buildUnconfirmedAnomaly(status, queried, meaning, now);
    const deliveries = policy.plan(event);
    const settled = await store.settleConfirmation({
      partner,
      controlNumber: queried.controlNumber,
      state,
      confirmation,
      event,
      deliveries,
    });
    if (!settled) return { ...base, outcome, detail: `${base.detail}; already settled`, eventId: null };
    this.deps.onStored?.(event, { eventId: event.id, duplicate: false, duplicates: 0 }, deliveries.length);
    if (confirmation === 'contradicted') {
      this.deps.logger.warn(
        {
          partner,
          controlNumber: queried.controlNumber,
          held: state,
          queriedStatus: queried.status,
          eventId: event.id,
        },
        "SkyPay's status query contradicts a final status a callback brought: payout.anomaly (unconfirmed) raised",
      );
      return { ...base, outcome, eventId: event.id, anomaly: 'unconfirmed' };
    }
    return { ...base, outcome, eventId: event.id };
  }

  /** Stores an anomaly of reconciliation's own (planned like any event) and logs it. */
  private async raise(anomaly: SystemEvent, log: Record<string, unknown>): Promise<void> {
    const deliveries = this.deps.policy.plan(anomaly);
    const outcome = await this.deps.store.saveEvent(anomaly, deliveries);
    this.deps.onStored?.(anomaly, outcome, deliveries.length);
    this.deps.logger.warn(
      { partner: this.deps.partner, ...log, kind: anomaly.data['kind'], eventId: anomaly.id },
      "SkyPay's status query answer raised payout.anomaly",
    );
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}

/** The status event that made the payout final (the newest such, if several), while it is kept. */
function finalStatusOf(detail: PayoutDetail): PayoutEvent | undefined {
  let found: PayoutEvent | undefined;
  for (const { event } of detail.events) {
    if (event.source !== 'skypay' || event.type !== 'payout') continue;
    const t = event.transition;
    if (t && t.to === detail.payout.state && (t.from === null || !isFinalState(t.from))) found = event;
  }
  return found;
}
