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

  function makeWorker(destination: Destination, claims: number[]) {
    return new DeliveryWorker(
      {
        store: {
          claimDeliveries: async (o) => {
            const claimed = await store.claimDeliveries(o);
            claims.push(claimed.length);
            return claimed;
          },
          renewLeases: (owner, ids, until) => store.renewLeases(owner, ids, until),
          finishAttempt: (d, owner, a, next) => store.finishAttempt(d, owner, a, next),
          releaseLeases: (owner, ids) => store.releaseLeases(owner, ids),
          nextWakeAt: () => store.nextWakeAt(),
          onNewWork: (listener) => store.onNewWork(listener),
        },
        destinations: new Map([['hook', destination]]),
        destinationLimits: new Map([['hook', 10]]),
        logger: createLogger({ level: 'silent' }),
      },
      {
        maxAttempts: 3,
        initialBackoffMs: 1_000,
        maxBackoffMs: 10_000,
        timeoutMs: 5_000,
        maxInFlight: 4,
        pollIntervalMs: 60_000,
        maxConcurrent: 2,
      },
    );
  }

  /** What the ingest path does: save with the worker's lease, then hand over what was leased. */
  async function ingest(worker: DeliveryWorker, id: string): Promise<void> {
    const event = buildPayoutEvent({ id: `evt_${id}`, controlNumber: `SKH${id.replace(/\D/g, '').padStart(8, '0')}` });
    const deliveries: NewDelivery[] = [{ id, destination: 'hook', rules: ['all'] }];
    const outcome = await store.saveEvent(event, deliveries, worker.leaseForIngest());
    expect(outcome.leased).to.deep.equal([id]);
    worker.takeLeased(event, outcome, deliveries);
  }

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
