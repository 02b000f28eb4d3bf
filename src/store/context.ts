import type { CallbackEvent } from '../event';
import type { Driver } from './driver';
import { ReadLane } from './read-lane';
import type { Dialect, Script } from './sql';

/**
 * The decisions about callbacks that the store executes but does not make: which callbacks are the same (their
 * identity and a digest of their content), and what a later copy of a known identity means. They come from the
 * protocol's side (src/ingest/dedup.ts) when the store is opened.
 */
export interface DedupRules {
  /** What dedup compares: (partner, controlNumber, payType, dealTime); a finance notification maps onto it too. */
  identityKey(event: CallbackEvent): [partner: string, controlNumber: string, payType: number, dealTime: string];
  /** A digest of the content a copy is compared on. */
  digestContent(event: CallbackEvent): Buffer;
  /** The real callback of an event reconciliation made: the event it completes, or undefined when it is not that. */
  completeReconciled(first: CallbackEvent | undefined, copy: CallbackEvent): CallbackEvent | undefined;
  /** The fields in which a conflicting copy differs from the first event. */
  listDifferences(first: CallbackEvent, copy: CallbackEvent): string[];
}

/** What every role of the store is built from: the driver's runner and dialect, and the rules it executes. */
export interface StoreContext {
  readonly driver: Driver;
  readonly d: Dialect;
  readonly rules: DedupRules;
  /** A read-only script, its failures as the store's own errors (off the event loop: see Driver.read), in the lane. */
  read<R>(script: () => Script<R>): Promise<R>;
  /** A small indexed read that must not queue behind long ones (see Driver.readQuick). */
  readQuick<R>(script: () => Script<R>): Promise<R>;
  /** One write transaction, its failures as the store's own errors (rule errors pass through). */
  write<R>(script: () => Script<R>): Promise<R>;
  /** Throws StoreClosedError once the store is closing: nothing new starts then. */
  assertOpen(): void;
}

/** `assertOpen` throws once the store is closing: nothing new starts then. */
export function createContext(driver: Driver, rules: DedupRules, assertOpen: () => void): StoreContext {
  const lane = new ReadLane();
  return {
    driver,
    d: driver.d,
    rules,
    assertOpen,
    read: async (script) => {
      assertOpen();
      return lane.run(() => driver.read(script));
    },
    readQuick: async (script) => {
      assertOpen();
      return driver.readQuick(script);
    },
    write: async (script) => {
      assertOpen();
      return driver.write(script);
    },
  };
}
