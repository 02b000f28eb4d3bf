import type { Config } from '../config/schema';
import type { PayoutAnomalyKind } from '../event';
import { Periodic } from '../periodic';
import {
  createStatusQueryClient,
  StatusQueryError,
  StatusQueryRejectedError,
  StatusQueryRequestError,
  StatusQueryTimeoutError,
  StatusQueryTransportError,
  type StatusQueryClient,
} from '../skypay/status-query';
import { parseOffsetMinutes } from '../skypay/time';
import type { Logger } from '../log';
import type { ClusterJobs, PayoutStore, Store } from '../store/store';
import { actOnAnswers, type AnswerDeps, type ReconcileItem } from './answers';
import type { PayoutPolicyOptions } from './policy';
import type { NewReconciliation, PayoutPolicy, ReconciliationOutcome, StatusQueryOutcome } from './types';

export type { ReconcileItem } from './answers';

/** The cluster-wide lock (the store's runExclusive): one process of the cluster reconciles at a time. */
export const RECONCILE_JOB = 'payouts.reconcile';
/**
 * Status queries per round at most: batchSize × 20 (1000 payouts at the default 50). Payouts left over stay due
 * and, oldest first, are asked at the next interval; a backlog never turns into a burst of calls to SkyPay.
 */
export const MAX_CALLS_PER_ROUND = 20;

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

export interface ReconcilerDeps extends AnswerDeps {
  store: AnswerDeps['store'] & PayoutStore & ClusterJobs;
  /** The status query; closed with the reconciler when it can be. */
  client: Pick<StatusQueryClient, 'query'> & Partial<Pick<StatusQueryClient, 'close'>>;
  /** Told of every status query's outcome. */
  onQuery?: (outcome: StatusQueryOutcome) => void;
  /** Told of every payout's reconciliation outcome (written or not), and the kind of the anomaly it raised if any. */
  onResult?: (outcome: ReconciliationOutcome, anomaly: PayoutAnomalyKind | undefined) => void;
  now?: () => Date;
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

  async stop(): Promise<void> {
    await this.periodic.stop();
    await this.deps.client.close?.();
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
      const items = await actOnAnswers(
        this.deps,
        chunk,
        result.payouts,
        result.missing,
        result.unreadable,
        now,
        dryRun,
      );
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

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}

/**
 * The reconciler skypay.statusQuery describes, for the daemon and `skyrelay reconcile`; undefined while the query is
 * off (no url). The config loader has already checked the partner and its keys.
 */
export function createReconciler(
  config: Config,
  store: Store,
  policy: PayoutPolicy,
  logger: Logger,
  hooks: Pick<ReconcilerDeps, 'onStored' | 'onQuery' | 'onResult'> = {},
): Reconciler | undefined {
  const client = createStatusQueryClient(config.skypay);
  const { partner, intervalMs, minAgeMs, batchSize } = config.skypay.statusQuery;
  if (!client || partner === undefined) return undefined;
  return new Reconciler(
    {
      store,
      client,
      partner,
      policy,
      offsetMinutes: parseOffsetMinutes(config.skypay.timezone),
      dealTimeWindow: { maxAgeDays: config.skypay.maxAgeDays, maxFutureMinutes: config.skypay.maxFutureMinutes },
      logger,
      ...hooks,
    },
    { intervalMs, minAgeMs, batchSize },
  );
}

/**
 * What the payout policy needs to know of the status query: whose final statuses it will confirm (none while it is
 * off). Every policy of the daemon and the CLI takes it from here, so they judge confirmation alike.
 */
export function confirmationOptions(config: Config): PayoutPolicyOptions {
  const { url, partner } = config.skypay.statusQuery;
  return { statusQueryPartner: url === undefined ? undefined : partner };
}
