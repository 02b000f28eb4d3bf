/**
 * The Store contract for destinations' breakers, run against every implementation: failures in a row open a
 * breaker once however many instances record them at once; an open destination lets one probe through per interval
 * across instances, its attempt not counted; a paused one sends nothing and leases nothing at ingest; a success or a
 * resume closes it with its backlog due, owing exactly one recovered alert.
 */
import { expect } from 'chai';
import type { PayoutEvent } from '../../../src/event';
import type { Store } from '../../../src/store/store';
import type { BreakerFailure, ClaimOptions } from '../../../src/delivery/types';
import { buildPayoutEvent } from '../../support/fixtures';
import { STORE_FACTORIES, type StoreHarness } from './factories';

let serial = 0;
function payout(overrides: Partial<PayoutEvent> = {}): PayoutEvent {
  serial += 1;
  return buildPayoutEvent({
    id: `evt_b${String(serial).padStart(8, '0')}`,
    controlNumber: `SKB${String(serial).padStart(8, '0')}`,
    receivedAt: new Date(Date.now() - 60_000).toISOString(),
    ...overrides,
  });
}

const delivery = (destination: string, id = `dlv_b${String(++serial).padStart(8, '0')}`) => ({
  id,
  destination,
  rules: ['contract'],
});

function claimOptions(owner: string, now: number, overrides: Partial<ClaimOptions> = {}): ClaimOptions {
  return { owner, now, leaseMs: 30_000, maxInFlight: () => 100, max: 100, ...overrides };
}

function failure(destination: string, now: number, overrides: Partial<BreakerFailure> = {}): BreakerFailure {
  return { destination, now, error: `HTTP 503 at ${now}`, threshold: 3, probeIntervalMs: 1_000, ...overrides };
}

const attempt = (outcome: 'delivered' | 'retry') => ({ startedAt: Date.now(), durationMs: 5, outcome });

for (const factory of STORE_FACTORIES) {
  factory.describe(`Store contract, breakers: ${factory.name}`, function () {
    let harness: StoreHarness;
    let a: Store;
    let b: Store;

    beforeEach(async () => {
      harness = await factory.create();
      a = await harness.open();
      b = await harness.open();
    });

    afterEach(async () => {
      await harness?.dispose();
    });

    async function seed(n: number, destination = 'ledger'): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const d = delivery(destination);
        await a.saveEvent(payout(), [d]);
        ids.push(d.id);
      }
      return ids;
    }

    async function open(destination = 'ledger', now = Date.now()): Promise<void> {
      for (let i = 0; i < 3; i++) await a.recordBreakerFailure(failure(destination, now));
      expect((await a.readBreakers()).find((r) => r.destination === destination)?.state).to.equal('open');
    }

    it('opens once at the threshold when two instances record failures at once, keeping the last errors', async () => {
      await seed(2);
      const now = Date.now();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? a : b).recordBreakerFailure(failure('ledger', now, { error: `HTTP 503 #${i}` })),
        ),
      );
      const changes = results.flatMap((r) => (r.change ? [r.change] : []));
      expect(changes, 'exactly one transaction opened it').to.have.length(1);
      expect(changes[0]).to.deep.include({
        destination: 'ledger',
        from: 'closed',
        to: 'open',
        reason: 'failures',
        alert: 'unhealthy',
        sinceMs: now,
        backlog: 2,
      });
      expect(changes[0]?.lastErrors).to.have.length(3);
      const [row] = await b.readBreakers();
      expect(row).to.deep.include({ destination: 'ledger', state: 'open', reason: 'failures', probeMs: now + 1_000 });
      expect(row?.lastErrors).to.have.length(3);
    });

    it('starts the count again after a success: failures must come in a row', async () => {
      const now = Date.now();
      await a.recordBreakerFailure(failure('ledger', now));
      await a.recordBreakerFailure(failure('ledger', now));
      expect(await b.recordBreakerSuccess('ledger', now)).to.equal(undefined);
      const third = await a.recordBreakerFailure(failure('ledger', now));
      expect(third).to.deep.equal({ state: 'closed' });
      expect((await a.readBreakers())[0]).to.deep.include({ state: 'closed', failures: 1 });
    });

    it('lets one probe through per interval across instances, the oldest due, its attempt not counted', async () => {
      const ids = await seed(5);
      const now = Date.now();
      await open('ledger', now);
      // Before the first probe's slot: nothing.
      expect(await a.claimDeliveries(claimOptions('a', now + 500))).to.deep.equal([]);
      const at = now + 1_000;
      const [fromA, fromB] = await Promise.all([
        a.claimDeliveries(claimOptions('a', at)),
        b.claimDeliveries(claimOptions('b', at)),
      ]);
      const probes = [...fromA, ...fromB];
      expect(probes, 'one probe in total').to.have.length(1);
      expect(probes[0]).to.deep.include({ id: ids[0], attempt: 1, probe: true });
      // The probe failed: back to pending, due now; the next slot is one interval after the probe was taken.
      await a.finishAttempt(probes[0]!, probes[0]!.id === fromA[0]?.id ? 'a' : 'b', attempt('retry'), {
        state: 'pending',
        nextAttemptMs: at,
      });
      await a.recordBreakerFailure(failure('ledger', at));
      expect(await b.claimDeliveries(claimOptions('b', at + 999))).to.deep.equal([]);
      // The failed probe went back due now, behind the others: the next probe is the oldest due then, so one
      // delivery the receiver cannot take does not keep the breaker open.
      const [again] = await b.claimDeliveries(claimOptions('b', at + 1_000));
      expect(again).to.deep.include({ id: ids[1], attempt: 1, probe: true });
      const listed = await a.listDeliveries({ destination: 'ledger', limit: 10 });
      expect(
        listed.find((r) => r.id === ids[0]),
        'the first probe was not counted',
      ).to.deep.include({ attempts: 0 });
      expect(await b.nextWakeAt()).to.equal(at + 2_000);
    });

    it('sends nothing to a paused destination, leases nothing to it at ingest, and keeps its deliveries pending', async () => {
      await seed(3);
      const now = Date.now();
      const paused = await a.pauseSends({ destination: 'ledger', now, reason: 'manual', by: 'ops@example.com' });
      expect(paused).to.deep.include({ from: 'closed', to: 'paused', reason: 'manual', alert: undefined, backlog: 3 });
      expect(await b.pauseSends({ destination: 'ledger', now, reason: 'manual', by: 'x' })).to.equal(undefined);
      expect(await b.claimDeliveries(claimOptions('b', now + 60_000))).to.deep.equal([]);
      const lease = { owner: 'a', untilMs: now + 30_000, maxInFlight: () => 100 };
      const fresh = delivery('ledger');
      const saved = await a.saveEvent(payout(), [fresh], lease);
      expect(saved.leased, 'a paused destination is not leased at ingest').to.deep.equal([]);
      // Its due deliveries wake nobody: the worker would otherwise spin on them.
      const wake = await a.nextWakeAt();
      expect(wake === undefined || wake > now, `nextWakeAt ${String(wake)}`).to.equal(true);
      const [row] = await b.readBreakers();
      expect(row).to.deep.include({ state: 'paused', reason: 'manual', pausedBy: 'ops@example.com' });
      const listed = await a.listDeliveries({ destination: 'ledger', state: 'pending', limit: 10 });
      expect(listed).to.have.length(4);
    });

    it('gives a crashed send to a paused destination back to pending instead of sending it again', async () => {
      const [id] = await seed(1);
      const now = Date.now();
      const [claimed] = await a.claimDeliveries(claimOptions('crashed', now, { leaseMs: 10 }));
      expect(claimed?.id).to.equal(id);
      await a.pauseSends({ destination: 'ledger', now, reason: 'manual', by: 'ops' });
      expect(await b.claimDeliveries(claimOptions('b', now + 1_000))).to.deep.equal([]);
      const [row] = await a.listDeliveries({ destination: 'ledger', limit: 1 });
      expect(row?.state).to.equal('pending');
    });

    it('a 410 pause raises unhealthy once, and resuming it owes recovered, with the backlog due at once', async () => {
      await seed(2);
      const now = Date.now();
      const gone = await a.pauseSends({ destination: 'ledger', now, reason: 'gone', error: 'HTTP 410 Gone' });
      expect(gone).to.deep.include({ to: 'paused', reason: 'gone', alert: 'unhealthy', lastErrors: ['HTTP 410 Gone'] });
      expect(await a.resumeSends('nobody-failed', now, 'ops')).to.equal(undefined);
      const [r1, r2] = await Promise.all([
        a.resumeSends('ledger', now + 5, 'ops'),
        b.resumeSends('ledger', now + 5, 'ops'),
      ]);
      const resumed = [r1, r2].filter((r) => r !== undefined);
      expect(resumed, 'one resume changed it').to.have.length(1);
      expect(resumed[0]).to.deep.include({ from: 'paused', to: 'closed', alert: 'recovered', sinceMs: now, by: 'ops' });
      expect(resumed[0]?.backlog).to.equal(2);
      expect(await b.claimDeliveries(claimOptions('b', now + 10))).to.have.length(2);
    });

    it('a probe that goes through closes it once, owing recovered, and makes retries waiting out a backoff due', async () => {
      const [first, second] = await seed(2);
      const now = Date.now();
      // One delivery waits out a long backoff from before the outage.
      const [claimed] = await a.claimDeliveries(claimOptions('a', now, { max: 1 }));
      expect(claimed?.id).to.equal(first);
      await a.finishAttempt(claimed!, 'a', attempt('retry'), { state: 'pending', nextAttemptMs: now + 3_600_000 });
      await open('ledger', now);
      const [probe] = await a.claimDeliveries(claimOptions('a', now + 1_000));
      expect(probe?.id).to.equal(second);
      await a.finishAttempt(probe!, 'a', attempt('delivered'), { state: 'delivered' });
      const [c1, c2] = await Promise.all([
        a.recordBreakerSuccess('ledger', now + 1_100),
        b.recordBreakerSuccess('ledger', now + 1_100),
      ]);
      const closed = [c1, c2].filter((c) => c !== undefined);
      expect(closed).to.have.length(1);
      expect(closed[0]).to.deep.include({ from: 'open', to: 'closed', alert: 'recovered', sinceMs: now, backlog: 1 });
      const drained = await b.claimDeliveries(claimOptions('b', now + 1_100));
      expect(drained.map((d) => d.id)).to.deep.equal([first]);
      expect((await a.readBreakers())[0]).to.deep.include({ state: 'closed', failures: 0 });
    });

    it('closes open breakers of destinations configured without one, and applies a new probe interval', async () => {
      const now = Date.now();
      await open('ledger', now);
      await open('slack', now);
      await a.applyBreakerSettings(
        [
          { destination: 'ledger', probeIntervalMs: undefined },
          { destination: 'slack', probeIntervalMs: 5_000 },
        ],
        now + 10,
      );
      const rows = await b.readBreakers();
      expect(rows.find((r) => r.destination === 'ledger')?.state).to.equal('closed');
      expect(rows.find((r) => r.destination === 'slack')).to.deep.include({ state: 'open', probeMs: now + 5_010 });
    });
  });
}
