import { expect } from 'chai';
import path from 'node:path';
import { DeliveryWorker } from '../../../src/delivery/worker';
import type { Destination, DeliveryRequest } from '../../../src/destinations/types';
import { createLogger } from '../../../src/log';
import type { Store } from '../../../src/store';
import type { NewDelivery } from '../../../src/delivery/types';
import { makeTempDir, waitUntil } from '../../support/daemon';
import { buildPayoutEvent } from '../../support/fixtures';
import { openSqliteStore } from '../../support/sqlite';

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

/** A destination whose sends each wait for the test to let them finish, one by one; it counts how many ran at once. */
function gatedDestination() {
  const sends: DeliveryRequest[] = [];
  const gates: (() => void)[] = [];
  const seen = { running: 0, most: 0 };
  const destination: Destination = {
    name: 'hook',
    type: 'webhook',
    send: async (request) => {
      sends.push(request);
      seen.running++;
      seen.most = Math.max(seen.most, seen.running);
      await new Promise<void>((resolve) => gates.push(resolve));
      seen.running--;
      return { status: 200 };
    },
    close: async () => undefined,
  };
  const releaseOne = (): void => (gates.shift() as () => void)();
  return { destination, sends, seen, releaseOne, waiting: () => gates.length };
}

/**
 * Ingest writes deliveries leased to the worker and hands them over in
 * memory (issue 13): no claim, the same delivery id as webhook-id, and
 * those still waiting for a send slot go back to the queue at a graceful
 * stop, their attempt not counted.
 */
describe('delivery worker hand-off from ingest', () => {
  let store: Store;
  let other: Store;
  beforeEach(() => {
    const file = path.join(makeTempDir(), 'hand-off.db');
    store = openSqliteStore(file);
    other = openSqliteStore(file);
  });
  afterEach(async () => {
    await store.close();
    await other.close();
  });

  function makeWorker(
    destination: Destination,
    claims: number[],
    limits = { hook: 10, maxConcurrent: 2 },
    recording: { held?: Promise<void>; recorded: string[] } = { recorded: [] },
  ) {
    return new DeliveryWorker(
      {
        store: {
          claimDeliveries: async (o) => {
            const claimed = await store.claimDeliveries(o);
            claims.push(claimed.length);
            return claimed;
          },
          renewLeases: (owner, ids, until) => store.renewLeases(owner, ids, until),
          finishAttempt: async (d, owner, a, next) => {
            await recording.held;
            await store.finishAttempt(d, owner, a, next);
            recording.recorded.push(d.id);
          },
          releaseLeases: (owner, ids) => store.releaseLeases(owner, ids),
          nextWakeAt: () => store.nextWakeAt(),
          onNewWork: (listener) => store.onNewWork(listener),
        },
        destinations: new Map([['hook', destination]]),
        destinationLimits: new Map([['hook', limits.hook]]),
        logger: createLogger({ level: 'silent' }),
      },
      {
        maxAttempts: 3,
        initialBackoffMs: 1_000,
        maxBackoffMs: 10_000,
        timeoutMs: 5_000,
        maxInFlight: 4,
        pollIntervalMs: 60_000,
        maxConcurrent: limits.maxConcurrent,
      },
    );
  }

  /**
   * What the ingest path does: save with the worker's lease, then hand over what was leased. `handOff`: as a store
   * does where no other process holds a lease on the destination, lease up to the hand-off, past maxInFlight.
   */
  async function ingest(worker: DeliveryWorker, id: string, handOff = false): Promise<void> {
    const event = buildPayoutEvent({ id: `evt_${id}`, controlNumber: `SKH${id.replace(/\D/g, '').padStart(8, '0')}` });
    const deliveries: NewDelivery[] = [{ id, destination: 'hook', rules: ['all'] }];
    const lease = worker.leaseForIngest();
    expect(lease?.handOff('hook')).to.be.at.least(1024);
    const asked = handOff && lease ? { ...lease, maxInFlight: (name: string) => lease.handOff(name) } : lease;
    const outcome = await store.saveEvent(event, deliveries, asked);
    expect(outcome.leased).to.deep.equal([id]);
    worker.takeLeased(event, outcome, deliveries);
  }

  it('sends a burst leased at ingest past maxInFlight from memory, at most maxInFlight at once, claiming none', async () => {
    const gated = gatedDestination();
    const claims: number[] = [];
    const worker = makeWorker(gated.destination, claims, { hook: 3, maxConcurrent: 64 });
    worker.start();
    await waitUntil(() => claims.length > 0, 'the claim at start');
    for (let i = 1; i <= 10; i++) await ingest(worker, `dlv_${String(i).padStart(2, '0')}`, true);
    await waitUntil(() => gated.sends.length === 3, 'three sends');
    // Another process sees all ten in flight: its claims take none of them.
    const inflight = await other.listDeliveries({ state: 'inflight', limit: 20 });
    expect(inflight).to.have.length(10);
    expect(
      await other.claimDeliveries({ owner: 'other', now: Date.now(), leaseMs: 1_000, maxInFlight: () => 3, max: 10 }),
    ).to.deep.equal([]);
    for (let done = 1; done <= 10; done++) {
      await waitUntil(() => gated.waiting() === Math.min(3, 11 - done), `send ${done} waiting`);
      gated.releaseOne();
    }
    await waitUntil(
      async () => (await other.listDeliveries({ state: 'delivered', limit: 20 })).length === 10,
      'all ten',
    );
    expect(gated.seen.most, 'at most maxInFlight at once').to.equal(3);
    // Oldest first, each once, each its first attempt, none of them claimed.
    expect(gated.sends.map((s) => [s.deliveryId, s.attempt])).to.deep.equal(
      Array.from({ length: 10 }, (_, i) => [`dlv_${String(i + 1).padStart(2, '0')}`, 1]),
    );
    expect(claims.reduce((a, b) => a + b, 0)).to.equal(0);
    await worker.stop();
  });

  it("starts the next delivery once the receiver answered, while the last attempt's record still commits", async () => {
    const gated = gatedDestination();
    let commit!: () => void;
    const recording = { held: new Promise<void>((resolve) => (commit = resolve)), recorded: [] as string[] };
    const worker = makeWorker(gated.destination, [], { hook: 1, maxConcurrent: 64 }, recording);
    worker.start();
    for (const id of ['dlv_01', 'dlv_02']) await ingest(worker, id, true);
    await waitUntil(() => gated.sends.length === 1, 'the first send');
    gated.releaseOne();
    // One send at a time, and the second goes out while the first's attempt is not recorded yet.
    await waitUntil(() => gated.sends.length === 2, 'the second send before the first record');
    expect(recording.recorded).to.deep.equal([]);
    expect(gated.seen.most).to.equal(1);
    gated.releaseOne();
    commit();
    await waitUntil(() => recording.recorded.length === 2, 'both recorded');
    await worker.stop();
  });

  it('gives back at stop every delivery of a burst still waiting in memory, while the sends running finish', async () => {
    const gated = gatedDestination();
    const worker = makeWorker(gated.destination, [], { hook: 3, maxConcurrent: 64 });
    worker.start();
    for (let i = 1; i <= 10; i++) await ingest(worker, `dlv_${String(i).padStart(2, '0')}`, true);
    await waitUntil(() => gated.sends.length === 3, 'three sends');
    const stopping = worker.stop();
    await waitUntil(async () => (await other.listDeliveries({ state: 'pending', limit: 20 })).length === 7, 'release');
    const pending = await other.listDeliveries({ state: 'pending', limit: 20 });
    expect(pending.every((d) => d.attempts === 0)).to.equal(true);
    // Pending and due at once: any process claims them now, not after their leases would have ended.
    const taken = await other.claimDeliveries({
      owner: 'other',
      now: Date.now(),
      leaseMs: 1_000,
      maxInFlight: () => 20,
      max: 20,
    });
    expect(taken.map((d) => d.id).sort()).to.deep.equal(
      Array.from({ length: 7 }, (_, i) => `dlv_${String(i + 4).padStart(2, '0')}`),
    );
    for (let i = 0; i < 3; i++) gated.releaseOne();
    await stopping;
    expect(gated.sends).to.have.length(3);
  });

  it('sends what ingest leased without claiming it, and returns the unstarted ones to the queue at stop', async () => {
    const held = heldDestination();
    const claims: number[] = [];
    const worker = makeWorker(held.destination, claims);
    worker.start();
    await waitUntil(() => claims.length > 0, 'the claim at start');
    for (let i = 1; i <= 5; i++) await ingest(worker, `dlv_${i}`);
    // Two send slots: two start at once, three wait in memory; nothing was claimed for any of them.
    await waitUntil(() => held.sends.length === 2, 'two sends');
    expect(held.sends.map((s) => [s.deliveryId, s.attempt])).to.deep.equal([
      ['dlv_1', 1],
      ['dlv_2', 1],
    ]);
    expect(claims.reduce((a, b) => a + b, 0)).to.equal(0);
    expect(
      await other.claimDeliveries({ owner: 'other', now: Date.now(), leaseMs: 1_000, maxInFlight: () => 10, max: 10 }),
    ).to.deep.equal([]);

    const stopping = worker.stop();
    // At once: while the two sends still run, the three waiting are pending again, attempt not counted.
    await waitUntil(async () => (await other.listDeliveries({ state: 'pending', limit: 10 })).length === 3, 'release');
    const pending = await other.listDeliveries({ state: 'pending', limit: 10 });
    expect(pending.map((d) => [d.id, d.attempts]).sort()).to.deep.equal([
      ['dlv_3', 0],
      ['dlv_4', 0],
      ['dlv_5', 0],
    ]);
    expect(worker.stop(), 'a second stop returns the first one').to.equal(stopping);
    held.finish();
    await stopping;
    expect((await other.listDeliveries({ state: 'delivered', limit: 10 })).map((d) => d.id).sort()).to.deep.equal([
      'dlv_1',
      'dlv_2',
    ]);
    expect(held.sends).to.have.length(2);
    expect(worker.leaseForIngest(), 'no lease once stopped').to.equal(undefined);
  });
});
