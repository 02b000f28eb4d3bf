import { expect } from 'chai';
import path from 'node:path';
import { DeliveryWorker } from '../../../src/delivery/worker';
import type { Destination, DeliveryRequest } from '../../../src/destinations/types';
import { createLogger } from '../../../src/log';
import type { Store } from '../../../src/store';
import type { OutboxStore } from '../../../src/store/store';
import type { ClaimOptions } from '../../../src/delivery/types';
import { makeTempDir, waitUntil } from '../../support/daemon';
import { buildPayoutEvent } from '../../support/fixtures';
import { openSqliteStore } from '../../support/sqlite';

const LEASE_MS = 400;

/** A destination whose sends last until the test lets them finish. */
function heldDestination() {
  const sends: DeliveryRequest[] = [];
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const destination: Destination = {
    name: 'hook',
    type: 'webhook',
    send: async (request) => {
      sends.push(request);
      await done;
      return { status: 200 };
    },
    close: async () => undefined,
  };
  return { destination, sends, finish };
}

/** The real store, with each call passed through `around` first. */
function outboxOf(store: Store, around: { claim?: () => Promise<void>; renewed?: string[][] } = {}): OutboxStore {
  return {
    claimDeliveries: async (o: ClaimOptions) => {
      await around.claim?.();
      return store.claimDeliveries(o);
    },
    renewLeases: async (owner, ids, until) => {
      around.renewed?.push([...ids]);
      return store.renewLeases(owner, ids, until);
    },
    finishAttempt: (d, owner, a, next) => store.finishAttempt(d, owner, a, next),
    releaseLeases: (owner, ids) => store.releaseLeases(owner, ids),
    nextWakeAt: () => store.nextWakeAt(),
    onNewWork: (listener) => store.onNewWork(listener),
  };
}

describe('delivery worker leases', () => {
  let file: string;
  let store: Store;
  let other: Store;
  beforeEach(async () => {
    file = path.join(makeTempDir(), 'worker.db');
    store = openSqliteStore(file);
    other = openSqliteStore(file);
    await store.saveEvent(buildPayoutEvent(), [{ id: 'dlv_1', destination: 'hook', rules: ['all'] }]);
  });
  afterEach(async () => {
    await store.close();
    await other.close();
  });

  const makeWorker = (outbox: OutboxStore, destination: Destination) =>
    new DeliveryWorker(
      {
        store: outbox,
        destinations: new Map([['hook', destination]]),
        destinationLimits: new Map(),
        logger: createLogger({ level: 'silent' }),
      },
      {
        maxAttempts: 3,
        initialBackoffMs: 1_000,
        maxBackoffMs: 10_000,
        timeoutMs: 5_000,
        maxInFlight: 4,
        pollIntervalMs: 60_000,
        leaseMs: LEASE_MS,
      },
    );
  const claimElsewhere = () =>
    other.claimDeliveries({ owner: 'other', now: Date.now(), leaseMs: LEASE_MS, maxInFlight: () => 4, max: 4 });

  it('renews the lease of a send running past half of it, so no other process takes the delivery', async () => {
    const held = heldDestination();
    const renewed: string[][] = [];
    const worker = makeWorker(outboxOf(store, { renewed }), held.destination);
    worker.start();
    await waitUntil(() => held.sends.length === 1, 'the send to start');
    const started = Date.now();
    // Past the first lease's end, renewed meanwhile.
    await waitUntil(() => renewed.length >= 2 && Date.now() > started + LEASE_MS, 'two renewals', 5_000);
    expect(renewed[0]).to.deep.equal(['dlv_1']);
    expect(await claimElsewhere()).to.deep.equal([]);
    held.finish();
    await worker.stop();
    expect((await other.listDeliveries({ limit: 10 }))[0]).to.include({ state: 'delivered', attempts: 1 });
    expect(held.sends).to.have.length(1);
  });

  it('hands back at stop what it claimed but never started: pending at once, the attempt not counted', async () => {
    const held = heldDestination();
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let claiming = false;
    const worker = makeWorker(
      outboxOf(store, {
        claim: async () => {
          claiming = true;
          await gate;
        },
      }),
      held.destination,
    );
    worker.start();
    await waitUntil(() => claiming, 'the worker to claim');
    const stopping = worker.stop();
    openGate();
    await stopping;
    expect(held.sends).to.deep.equal([]);
    expect((await other.listDeliveries({ limit: 10 }))[0]).to.include({ state: 'pending', attempts: 0 });
    // Another process takes it at once, as its first attempt, without waiting out a lease.
    expect((await claimElsewhere()).map((d) => [d.id, d.attempt])).to.deep.equal([['dlv_1', 1]]);
  });
});
