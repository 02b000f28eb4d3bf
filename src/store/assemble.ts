import { createBreakerStore } from './breakers';
import { createGroupCommit } from './commit';
import { createContext, type DedupRules } from './context';
import type { Driver } from './driver';
import { createDashboardStore } from './dashboard';
import { StoreClosedError } from './errors';
import { createHealthStore } from './health';
import { createIngestStore } from './ingest';
import { createInspectStore } from './inspect';
import { createLedgerStore } from './ledger';
import { createOutboxStore } from './outbox';
import { createOrderingStore } from './ordering';
import { createPayoutStore } from './payouts';
import { createRetentionStore } from './prune';
import { createReplayStore } from './replay';
import { createAlertWindowStore, createMetricTotalsStore } from './shared-state';
import { createSilenceStore } from './silences';
import type { Store } from './store';
import { createGroupStore } from './groups';

export interface AssembleOptions {
  /** Most writes one group commit takes. */
  maxBatch?: number | undefined;
  /** How long a group commit's write may wait for another process's lock (retried off the event loop). */
  busyTimeoutMs?: number | undefined;
}

/**
 * The Store: every role (src/store/store.ts) built over one driver, each of its transactions written once in the
 * role's own module. Nothing here decides anything: it wires the roles to the driver and closes them in order.
 */
export function assembleStore(driver: Driver, rules: DedupRules, options: AssembleOptions = {}): Store {
  let closing: Promise<void> | undefined;
  const assertOpen = (): void => {
    if (closing !== undefined) throw new StoreClosedError();
  };
  const ctx = createContext(driver, rules, assertOpen);
  const commit = createGroupCommit(ctx, options);
  const ingest = createIngestStore(ctx, commit, options);
  const health = createHealthStore(ctx, commit);
  const own = {
    kind: driver.kind,
    markServing: () => driver.markServing(),
    runExclusive: async <T>(name: string, job: () => Promise<T>) => (assertOpen(), driver.runExclusive(name, job)),
    close(): Promise<void> {
      closing ??= (async () => {
        // Each flush on its own: one failing must not leave the database open.
        for (const part of [commit, ingest]) await part.flush().catch(() => undefined);
        await driver.close();
      })();
      return closing;
    },
  };

  const store: Store = combine(
    own,
    ingest,
    health,
    createOutboxStore(ctx, commit),
    createOrderingStore(ctx, commit),
    createBreakerStore(ctx),
    createInspectStore(ctx),
    createReplayStore(ctx),
    createRetentionStore(ctx),
    createAlertWindowStore(ctx),
    createGroupStore(ctx),
    createMetricTotalsStore(ctx),
    createSilenceStore(ctx),
    createPayoutStore(ctx),
    createDashboardStore(ctx),
    createLedgerStore(ctx),
  );
  return store;
}

type Intersection<T extends readonly object[]> = T extends readonly [infer H, ...infer R extends readonly object[]]
  ? H & Intersection<R>
  : unknown;

/** One object with every part's members, getters kept as getters (a spread would read them once). */
function combine<T extends readonly object[]>(...parts: T): Intersection<T> {
  const whole = {};
  for (const part of parts) Object.defineProperties(whole, Object.getOwnPropertyDescriptors(part));
  return whole as Intersection<T>;
}
