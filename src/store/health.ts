import type { GroupCommit } from './commit';
import type { StoreContext } from './context';
import { describeFailure, toStoreError } from './driver';
import { run } from './sql';
import type { HealthStore } from './store';

/** Liveness, readiness after a failed write, and what the driver reports of itself. */
export function createHealthStore(ctx: StoreContext, commit: GroupCommit): HealthStore {
  const { driver, assertOpen } = ctx;
  let probeFailure: string | undefined;
  return {
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
}
