import { createGroupCommit } from './commit';
import { createContext, type DedupRules } from './context';
import { createDashboardStore } from './dashboard';
import { describeFailure, toStoreError, type Driver } from './driver';
import { StoreClosedError } from './errors';
import { createBatcher } from './group-commit';
import { addSuppressed, commitGroup, insertRejections, takeRejectionRows } from './ingest';
import { createInspectStore } from './inspect';
import { createOutboxStore } from './outbox';
import { createPayoutStore } from './payouts';
import { createRetentionStore } from './prune';
import { createReplayStore } from './replay';
import { createAlertWindowStore, createMetricTotalsStore } from './shared-state';
import { createSilenceStore } from './silences';
import { run } from './sql';
import type { HealthStore, IngestStore, Store } from './store';
import type { NewRejection, SuppressedRejections } from '../ingest/types';
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
  const batching = {
    maxBatch: options.maxBatch ?? 256,
    busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
    isBusy: driver.failures.isBusy,
    failsAll: driver.failures.failsAll,
  };
  const rejections = createBatcher(
    (batch: NewRejection[]) => driver.writeRaw(() => insertRejections(batch)).then(() => batch.map(() => undefined)),
    batching,
  );
  // Through a batcher of its own for its retries while another process holds the write lock.
  const suppressed = createBatcher(
    (batch: SuppressedRejections[]) =>
      driver.writeRaw(() => addSuppressed(batch)).then(() => batch.map(() => undefined)),
    batching,
  );
  let probeFailure: string | undefined;

  const ingest: IngestStore = {
    saveEvent: async (event, deliveries, lease) => (assertOpen(), commit.save({ event, deliveries, lease })),
    savePayoutEvent: async (event, policy, lease) => (
      assertOpen(),
      commit.save({ event, deliveries: [], policy, lease })
    ),
    saveRejection: async (rejection) => {
      assertOpen();
      await rejections.submit(rejection).catch((err: unknown) => toStoreError(err, driver.failures));
    },
    addSuppressed: async (counts) => {
      assertOpen();
      if (counts.length === 0) return;
      // After the rows they count: a kept row still queued is written first.
      await rejections.flush();
      await Promise.all(counts.map((c) => suppressed.submit(c))).catch((err: unknown) =>
        toStoreError(err, driver.failures),
      );
    },
    takeRejectionRows: async (minuteMs, want, cap) => {
      assertOpen();
      return driver.write(() => takeRejectionRows(driver.d, minuteMs, want, cap));
    },
    // Straight through the open handle, lost file or not: the worker reads the same handle, so the alert that the
    // file is lost still goes out. Where nothing can be lost (PostgreSQL) it is an ordinary write.
    saveEventDespiteLoss: async (event, deliveries) => {
      assertOpen();
      await driver.write(() => commitGroup(driver.d, rules, [{ event: { event, deliveries } }], undefined));
    },
  };

  const health: HealthStore = {
    ping: async () => (assertOpen(), driver.ping()),
    // A tiny write, for readiness after a failed one: when it commits, the database takes writes again.
    probeWrite: async () => {
      assertOpen();
      try {
        await driver.writeRaw(() =>
          run(
            `INSERT INTO health_probe (id, written_ms) VALUES (1, ?)
             ON CONFLICT (id) DO UPDATE SET written_ms = excluded.written_ms`,
            [Date.now()],
          ),
        );
        probeFailure = undefined;
        commit.clearFailure();
      } catch (err) {
        probeFailure = describeFailure(err, driver.failures);
        toStoreError(err, driver.failures);
      }
    },
    get lastWriteFailure() {
      return commit.lastFailure ?? probeFailure;
    },
    get lostReason() {
      return driver.lostReason;
    },
    get statements() {
      return driver.statements;
    },
  };

  const own = {
    kind: driver.kind,
    markServing: () => driver.markServing(),
    runExclusive: async <T>(name: string, job: () => Promise<T>) => (assertOpen(), driver.runExclusive(name, job)),
    close(): Promise<void> {
      closing ??= (async () => {
        // Each flush on its own: one failing must not leave the database open.
        for (const batcher of [commit, rejections, suppressed]) await batcher.flush().catch(() => undefined);
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
    createInspectStore(ctx),
    createReplayStore(ctx),
    createRetentionStore(ctx),
    createAlertWindowStore(ctx),
    createGroupStore(ctx),
    createMetricTotalsStore(ctx),
    createSilenceStore(ctx),
    createPayoutStore(ctx),
    createDashboardStore(ctx),
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
