import type { StoreContext } from './context';
import { describeFailure, toStoreError } from './driver';
import { WriteRaceError } from './errors';
import { createBatcher } from './group-commit';
import { commitGroup, type EventWrite, type GroupItem } from './ingest';
import type { FinishWrite } from './outbox';
import type { SaveOutcome } from '../ingest/types';
import type { ClaimedDelivery } from '../delivery/types';

/** The one group commit of a store: callbacks' events and finished attempts, one transaction per burst. */
export interface GroupCommit {
  save(write: EventWrite): Promise<SaveOutcome>;
  /** Resolves with the line's next delivery the finish leased to the same owner (FinishWrite.passOnUntilMs), if any. */
  finish(finish: FinishWrite): Promise<ClaimedDelivery | undefined>;
  flush(): Promise<void>;
  /** Undefined while writes succeed; else why the last one failed: what /readyz reports. */
  readonly lastFailure: string | undefined;
  /** A write succeeded elsewhere (the readiness probe): the last failure is forgotten. */
  clearFailure(): void;
}

export interface GroupCommitOptions {
  maxBatch?: number | undefined;
  busyTimeoutMs?: number | undefined;
}

export function createGroupCommit(ctx: StoreContext, options: GroupCommitOptions): GroupCommit {
  const { driver, d, rules } = ctx;
  const failures = driver.failures;
  let lastFailure: string | undefined;
  const batcher = createBatcher(
    (items: GroupItem[]) => {
      // One check of the file per group commit, not per callback: a removed file must not take another 1000.
      const events = items.some((i) => 'event' in i);
      const lost = events ? driver.lostError?.() : undefined;
      return driver
        .writeRaw(() => commitGroup(d, rules, items, lost))
        .then((outcomes) => {
          // And after it, before anyone is answered: the file the commit went to may have gone meanwhile (and what
          // it holds is saved now, not at the next timer).
          const after = events ? driver.lostAfterCommit?.() : undefined;
          const lostNow = lost ?? after;
          return lostNow ? outcomes.map((o) => (o === undefined ? undefined : lostNow)) : outcomes;
        });
    },
    {
      maxBatch: options.maxBatch ?? 256,
      maxInFlight: driver.batchesInFlight,
      busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
      // Another process stored a payout first: the batch is written again, and finds it.
      isBusy: (err) => err instanceof WriteRaceError || failures.isBusy(err),
      failsAll: (err) => failures.failsAll(err),
    },
  );
  const fail = (err: unknown): never => {
    lastFailure = describeFailure(err, failures);
    return toStoreError(err, failures);
  };
  return {
    async save(write) {
      const outcome = await batcher.submit({ event: write }).catch(fail);
      if (outcome instanceof Error) return fail(outcome);
      if (outcome === undefined || !('duplicate' in outcome))
        throw new Error('group commit returned no outcome for an event');
      lastFailure = undefined;
      return outcome;
    },
    async finish(finish) {
      const passed = await batcher.submit({ finish }).catch((err: unknown) => toStoreError(err, failures));
      // Anything else (an Error for a database file lost under the commit) passes nothing on: claims find it.
      return passed !== undefined && !(passed instanceof Error) && 'attempt' in passed ? passed : undefined;
    },
    flush: () => batcher.flush(),
    get lastFailure() {
      return lastFailure;
    },
    clearFailure() {
      lastFailure = undefined;
    },
  };
}
