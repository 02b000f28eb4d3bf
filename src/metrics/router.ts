import Router from '@koa/router';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from '../log';
import type { ProcessMetrics } from './collect';
import type { MetricsPublisher } from './publisher';
import type { BreakerStore, InspectStore, LedgerStore, PayoutStore } from '../store/store';
import { ledgerGauges } from './ledger-gauge';
import { payoutGauges } from './payout-gauges';
import { breakerGauges, queueGauges } from './queue-gauges';
import type { MetricFamily } from './types';
import { groupSamples, orderSamples } from './samples';

export interface MetricsRouteDeps {
  store: InspectStore & PayoutStore & Pick<LedgerStore, 'readLatestLedgerDay'> & Pick<BreakerStore, 'readBreakers'>;
  path: string;
  metrics: ProcessMetrics;
  publisher: MetricsPublisher;
  destinations: readonly string[];
  logger: Logger;
}

/**
 * GET /metrics: cluster-wide totals (every process's counts, including
 * processes since replaced), each live process's own process metrics
 * labelled by pid, and the outbox gauges. Whichever cluster worker pm2 hands
 * the scrape to, the answer covers them all.
 *
 * A scrape only reads: counts reach the totals on the publisher's timer (and
 * at stop), never because someone scraped, so scraping cannot slow callbacks
 * down with writes. Strict and case-sensitive: one spelling of the path.
 */
export function createMetricsRouter(deps: MetricsRouteDeps): Router {
  const router = new Router({ strict: true, sensitive: true });
  router.get(deps.path, async (ctx) => {
    let families: MetricFamily[][];
    try {
      families = await readClusterView(deps);
    } catch (err) {
      // The database is in trouble: still show this process, and say the view is partial.
      deps.logger.warn({ err }, 'metrics: shared view unavailable, serving this process only');
      families = [
        await deps.metrics.readCounters(),
        await deps.metrics.readProcess(),
        [viewGauge(0, 'Shared view unavailable')],
      ];
    }
    const registry = AggregatorRegistry.aggregate(families);
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  return router;
}

async function readClusterView(deps: MetricsRouteDeps): Promise<MetricFamily[][]> {
  const now = Date.now();
  const { shared } = deps.publisher;
  const totals = groupSamples(orderSamples(await shared.readMetricTotals()));
  const processes = (await shared.readMetricProcesses(now - deps.publisher.staleAfterMs)).map((p) =>
    p.families.map((f) => ({
      ...f,
      // Each series is one process's own; 'first' keeps it (the default 'omit' would drop start time).
      aggregator: 'first',
      values: f.values.map((v) => ({ ...v, labels: { ...v.labels, pid: p.pid } })),
    })),
  );
  return [
    totals,
    ...processes,
    queueGauges(await deps.store.readQueueState(), deps.destinations, now),
    breakerGauges(await deps.store.readBreakers(), deps.destinations),
    payoutGauges(await deps.store.countPayoutsByState()),
    ledgerGauges(await deps.store.readLatestLedgerDay()),
    [viewGauge(processes.length, 'Processes whose metrics this scrape covers')],
  ];
}

function viewGauge(processes: number, help: string): MetricFamily {
  return {
    name: 'skyrelay_metrics_processes',
    help,
    type: 'gauge',
    aggregator: 'first',
    values: [{ value: processes, labels: {} }],
  };
}
