import { expect } from 'chai';
import path from 'node:path';
import type { Store } from '../../../src/store';
import type { ClaimOptions } from '../../../src/delivery/types';
import { makeTempDir } from '../../support/daemon';
import { buildPayoutEvent } from '../../support/fixtures';
import { openSqliteStore } from '../../support/sqlite';

const LEASE_MS = 1_000;

describe('outbox leases: renewLeases and releaseLeases', () => {
  let file: string;
  let store: Store;
  /** Another process on the same file. */
  let other: Store;
  beforeEach(async () => {
    file = path.join(makeTempDir(), 'leases.db');
    store = openSqliteStore(file);
    other = openSqliteStore(file);
    await store.saveEvent(buildPayoutEvent(), [{ id: 'dlv_1', destination: 'hook', rules: ['all'] }]);
  });
  afterEach(async () => {
    await store.close();
    await other.close();
  });

  const claim = (s: Store, owner: string, now: number): ReturnType<Store['claimDeliveries']> => {
    const options: ClaimOptions = { owner, now, leaseMs: LEASE_MS, maxInFlight: () => 10, max: 10 };
    return s.claimDeliveries(options);
  };
  const delivery = async (s: Store) => (await s.listDeliveries({ limit: 10 })).find((d) => d.id === 'dlv_1');

  it('keeps a renewed lease from being taken after the first one would have expired', async () => {
    const now = Date.now();
    expect((await claim(store, 'worker-a', now)).map((d) => d.id)).to.deep.equal(['dlv_1']);
    await store.renewLeases('worker-a', ['dlv_1'], now + 10 * LEASE_MS);
    expect(await claim(other, 'worker-b', now + 2 * LEASE_MS)).to.deep.equal([]);
    // Past the renewed lease the delivery is taken over: a crashed holder's work is not lost.
    expect((await claim(other, 'worker-b', now + 11 * LEASE_MS)).map((d) => d.attempt)).to.deep.equal([2]);
  });

  it('does not renew a lease another owner holds', async () => {
    const now = Date.now();
    await claim(store, 'worker-a', now);
    await other.renewLeases('worker-b', ['dlv_1'], now + 10 * LEASE_MS);
    expect((await claim(other, 'worker-b', now + 2 * LEASE_MS)).map((d) => d.id)).to.deep.equal(['dlv_1']);
  });

  it('releases an unsent delivery at once, due now, its attempt not counted', async () => {
    const now = Date.now();
    const [claimed] = await claim(store, 'worker-a', now);
    expect(claimed?.attempt).to.equal(1);
    expect(await delivery(store)).to.include({ state: 'inflight', attempts: 1 });
    await store.releaseLeases('worker-a', ['dlv_1']);
    expect(await delivery(other)).to.include({ state: 'pending', attempts: 0 });
    // Well before the lease would have run out, another process takes it, as its first attempt.
    expect((await claim(other, 'worker-b', Date.now())).map((d) => d.attempt)).to.deep.equal([1]);
  });

  it('does not release a delivery leased to another owner, nor one already finished', async () => {
    const now = Date.now();
    const [claimed] = await claim(store, 'worker-a', now);
    await other.releaseLeases('worker-b', ['dlv_1']);
    expect(await delivery(store)).to.include({ state: 'inflight' });
    if (!claimed) throw new Error('nothing claimed');
    await store.finishAttempt(
      claimed,
      'worker-a',
      { startedAt: now, durationMs: 5, outcome: 'delivered', status: 200 },
      { state: 'delivered' },
    );
    await store.releaseLeases('worker-a', ['dlv_1']);
    expect(await delivery(other)).to.include({ state: 'delivered', attempts: 1 });
  });
});
