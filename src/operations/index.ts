import type { Config } from '../config/schema';
import type { DestinationOptions } from '../destinations/options';
import type { PayStatus, RelayEvent } from '../event';
import { dedupRules } from '../ingest/dedup';
import { createLogger, type Logger } from '../log';
import { resolveStuckWaits } from '../payouts/stuck-after';
import { resolveGroupings, withGrouping } from '../routing/group';
import { withOrdering } from '../routing/ordering';
import { resolveOrdering } from '../destinations/ordering';
import { createPlanner } from '../routing/plan';
import { openStore, type Store, type StoreOptions } from '../store';
import { StoreNotFoundError } from '../store/errors';
import { pruneAll } from '../retention/retention';
import type { NewDelivery } from '../delivery/types';
import type { PruneCounts, PruneCutoffs } from '../retention/types';
import { DashboardOperations } from './dashboard';
import { DestinationOperations } from './destinations';
import { NotFoundError } from './errors';
import { LedgerOperations } from './ledger';
import { Queries } from './queries';
import { reconcileNow, type RoundReport } from './reconcile';
import { Replays } from './replay';
import { Holds } from './holds';
import { SilenceOperations } from './silences';
import { sendTest, testSendDeps, type TestSend } from './test-send';
import type { RoundOptions } from '../payouts/reconciler';

/**
 * The use cases the admin API, the dashboard and the CLI share, written once: the fronts parse their input (query
 * strings, forms, flags), call these, and render what comes back. Nothing here knows HTTP or a terminal; refusals
 * are the typed errors of ./errors.
 */
export interface Operations {
  queries: Queries;
  replays: Replays;
  /** Payouts held behind a dead delivery at an ordered destination: released by an operator. */
  holds: Holds;
  silences: SilenceOperations;
  dashboard: DashboardOperations;
  /** A day's ledger (skyrelay ledger, GET /admin/ledger, the Ledger page, the daily summary). */
  ledger: LedgerOperations;
  /** Destinations' state (breaker, backlog, last outcomes), pause and resume. */
  destinations: DestinationOperations;
  sendTest(destination: string, status?: PayStatus): Promise<TestSend>;
  /** What a prune with these cut-offs would delete now (deliveries and attempts not counted). */
  countPrunable(cut: PruneCutoffs): Promise<{ events: number; rejections: number }>;
  /** Prunes now, batch after batch, as the retention job does. */
  prune(cut: PruneCutoffs): Promise<PruneCounts>;
  /** One reconciliation round now (see reconcileNow). */
  reconcile(options: RoundOptions): Promise<RoundReport>;
}

export interface OperationsDeps {
  store: Store;
  config: Config;
  logger: Logger;
  /** How a replayed event is routed: by default the rules and groupings of `config`, as the daemon routes. */
  plan?: (event: RelayEvent) => NewDelivery[];
  /** Wakes this process's delivery worker after a replay (a CLI has none: the daemon polls). */
  wake?: () => void;
  /** Applies a silence made or expired here at once, in this process. */
  onSilencesChanged?: () => Promise<void>;
  /** How Send test builds a destination: by default with the timeouts, time zone and secrets of `config`. */
  destinationOptions?: DestinationOptions;
  now?: () => number;
}

export function createOperations(deps: OperationsDeps): Operations {
  const { store, config, logger } = deps;
  const now = deps.now ?? Date.now;
  const plan = deps.plan ?? planLikeTheDaemon(config);
  const testSends = testSendDeps(config, logger, deps.destinationOptions);
  return {
    queries: new Queries(store),
    replays: new Replays({ store, plan, wake: deps.wake, logger }),
    holds: new Holds({ store, wake: deps.wake, logger }),
    silences: new SilenceOperations({
      store,
      destinations: Object.keys(config.destinations),
      maxDurationMs: config.silences.maxDurationMs,
      onChanged: deps.onSilencesChanged,
      logger,
      now,
    }),
    dashboard: new DashboardOperations({ store, stuckWaits: resolveStuckWaits(config.payouts) }),
    ledger: new LedgerOperations({
      store,
      timezone: config.skypay.timezone,
      retentionDays: config.store.retentionDays,
      now,
    }),
    destinations: new DestinationOperations({
      store,
      destinations: config.destinations,
      plan,
      logger,
      wake: deps.wake,
      now,
    }),
    sendTest: (destination, status) => sendTest(testSends, destination, status),
    countPrunable: (cut) => store.countPrunable(cut),
    prune: (cut) => pruneAll(store, cut, { batchSize: config.store.retentionBatchSize }),
    reconcile: (options) => reconcileNow(store, config, logger, options),
  };
}

/** As the daemon plans: a grouped destination's events join their group rather than go out alone. */
function planLikeTheDaemon(config: Config): (event: RelayEvent) => NewDelivery[] {
  return withOrdering(
    withGrouping(createPlanner(config.rules).plan, resolveGroupings(config.destinations)),
    resolveOrdering(config.destinations),
  );
}

/** The store config.store describes, executing the dedup rules of ingest: as the daemon and every command open it. */
export function storeOptionsOf(config: Config): StoreOptions {
  const { path, url, poolSize, busyTimeoutMs, synchronous } = config.store;
  return { rules: dedupRules, path, url, poolSize, busyTimeoutMs, synchronous };
}

/**
 * Opens the daemon's store (the same one the daemon and the admin API use) for one command, and the operations over
 * it. SQLite's WAL lets this run next to the daemon; busyTimeoutMs makes a write (replay, prune) wait its turn instead
 * of failing. Never creates an empty database where none is (NotFoundError).
 */
export async function openOperations(config: Config): Promise<Operations & { close(): Promise<void> }> {
  const logger = createLogger({ level: 'silent' });
  let store: Store;
  try {
    store = await openStore({ ...storeOptionsOf(config), mustExist: true }, logger);
  } catch (err) {
    if (err instanceof StoreNotFoundError) {
      throw new NotFoundError(
        `no database at ${config.store.path}: start the daemon once, or point store.path (SKYRELAY_DB_PATH) at it`,
      );
    }
    throw err;
  }
  return { ...createOperations({ store, config, logger }), close: () => store.close() };
}
