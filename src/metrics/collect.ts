import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AttemptReport } from '../delivery/types';
import type { PayoutAnomalyKind } from '../event';
import type { CallbackOutcome } from '../ingest/types';
import type { MetricFamily } from './types';

let shared: Registry | undefined;

/** One per process: the collectors install observers that live as long as the process. */
function processRegistry(): Registry {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}

/**
 * This process's counters and histograms (shared as cluster totals by the
 * publisher) and its process metrics (shown per process). Nothing here
 * touches SQLite; recording is a few additions on the hot path.
 */
export class ProcessMetrics {
  readonly counters = new Registry();
  readonly process = processRegistry();
  private readonly callbacks: Counter<'outcome' | 'reason'>;
  private readonly callbackSeconds: Histogram<'outcome'>;
  private readonly attempts: Counter<'destination' | 'outcome'>;
  private readonly attemptSeconds: Histogram<'destination'>;
  private readonly payoutAnomalies: Counter<'kind'>;
  private readonly statusQueries: Counter<'outcome'>;
  private readonly authRefusals: Counter<'surface' | 'outcome'>;

  /** @param storeStatements how many statements the store has run so far (Store.statements). */
  constructor(private readonly storeStatements?: () => number) {
    const registers = [this.counters];
    this.callbacks = new Counter({
      name: 'skyrelay_callbacks_total',
      // The label value stays "refused" (dashboards and alerts on it exist); the code's word is rejection.
      help: 'SkyPay callbacks received, by outcome (accepted, duplicate, conflict, refused) and rejection reason',
      labelNames: ['outcome', 'reason'],
      registers,
    });
    this.callbackSeconds = new Histogram({
      name: 'skyrelay_callback_duration_seconds',
      help: 'Time from request to reply for SkyPay callbacks, by outcome',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.attempts = new Counter({
      name: 'skyrelay_delivery_attempts_total',
      help: 'Delivery attempts by destination and outcome (delivered, retry, dead)',
      labelNames: ['destination', 'outcome'],
      registers,
    });
    this.attemptSeconds = new Histogram({
      name: 'skyrelay_delivery_attempt_duration_seconds',
      help: 'Duration of delivery attempts, by destination',
      labelNames: ['destination'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.payoutAnomalies = new Counter({
      name: 'skyrelay_payout_anomalies_total',
      help:
        'payout.anomaly events by kind (after-final, conflict, same-time; unconfirmed, reconciliation: SkyPay says ' +
        'otherwise; out-of-window: an answer dated outside the accepted window)',
      labelNames: ['kind'],
      registers,
    });
    this.statusQueries = new Counter({
      name: 'skyrelay_status_queries_total',
      help: 'SkyPay status queries (7.1) by outcome (ok, rejected, timeout, transport, unreadable, request)',
      labelNames: ['outcome'],
      registers,
    });
    this.authRefusals = new Counter({
      name: 'skyrelay_auth_failures_total',
      help:
        'Credentials refused, by surface (admin, metrics, dashboard) and outcome (wrong: not the token; ' +
        'throttled: 429, the address locked out after too many wrong ones)',
      labelNames: ['surface', 'outcome'],
      registers,
    });
  }

  recordAuthRefusal(surface: string, outcome: string): void {
    this.authRefusals.inc({ surface, outcome });
  }

  recordPayoutAnomaly(kind: PayoutAnomalyKind): void {
    this.payoutAnomalies.inc({ kind });
  }

  recordStatusQuery(outcome: string): void {
    this.statusQueries.inc({ outcome });
  }

  recordOutcome(outcome: CallbackOutcome, ms: number): void {
    const rejected = outcome.startsWith('refused:');
    const kind = rejected ? 'refused' : outcome;
    this.callbacks.inc(rejected ? { outcome: kind, reason: outcome.slice('refused:'.length) } : { outcome: kind });
    this.callbackSeconds.observe({ outcome: kind }, ms / 1000);
  }

  recordAttempt(report: AttemptReport): void {
    const destination = report.delivery.destination;
    this.attempts.inc({ destination, outcome: report.attempt.outcome });
    this.attemptSeconds.observe({ destination }, report.attempt.durationMs / 1000);
  }

  async readCounters(): Promise<MetricFamily[]> {
    return (await this.counters.getMetricsAsJSON()) as unknown as MetricFamily[];
  }

  async readProcess(): Promise<MetricFamily[]> {
    const families = (await this.process.getMetricsAsJSON()) as unknown as MetricFamily[];
    if (this.storeStatements === undefined) return families;
    return [
      ...families,
      {
        name: 'skyrelay_store_statements_total',
        help: 'Statements this process sent to the store since it started (PostgreSQL: each one a round trip)',
        type: 'counter',
        values: [{ value: this.storeStatements(), labels: {} }],
      },
    ];
  }
}
