import { expect } from 'chai';
import path from 'node:path';
import { makeTempDir } from '../../support/daemon';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';
import { ALL, withStore } from '../../support/store';
import { startReceiver, type Receiver } from '../../support/receiver';
import { spawnDaemon, type SpawnedDaemon } from '../../support/spawn';
import { startTraffic } from '../../support/traffic';

const KILLS = 5;

interface StoredEvent {
  control_number: string;
  n: number;
  delivery_ids: string;
}

/** Where the crash loop keeps its data: the daemon's store config, and how the test opens it to check. */
interface CrashLoopStore {
  config: Record<string, unknown>;
  at: string | { url: string };
}

/**
 * SIGKILL at random moments under steady traffic, five times over, on one
 * store (a SQLite file, or a PostgreSQL database). What was acknowledged must
 * survive every crash exactly once and reach the consumer, always under the
 * one webhook-id its delivery has.
 */
function crashLoop(open: () => Promise<CrashLoopStore>, close: () => Promise<void>): (this: Mocha.Suite) => void {
  return function () {
    this.timeout(90_000);
    const killDelays: number[] = [];
    let receiver: Receiver;
    let store: CrashLoopStore;
    let current: SpawnedDaemon | undefined;

    const start = async (): Promise<SpawnedDaemon> =>
      spawnDaemon({
        server: { host: '127.0.0.1', port: 0 },
        store: store.config,
        destinations: {
          consumer: {
            type: 'webhook',
            url: `${receiver.url}/hook`,
            secret: `whsec_${Buffer.alloc(32, 9).toString('base64')}`,
          },
        },
        rules: [{ name: 'all', to: ['consumer'] }],
        // Short attempt deadline: a delivery leased by a killed process is free again about 6 s later.
        delivery: { timeoutMs: 500, initialBackoffMs: 100, maxBackoffMs: 500, pollIntervalMs: 200 },
      });

    before(async () => {
      receiver = await startReceiver();
      store = await open();
    });
    after(async () => {
      current?.child.kill('SIGKILL');
      await current?.exited;
      await receiver?.close();
      await close();
    });

    it('keeps every acknowledged callback exactly once and delivers each at least once, under one webhook-id', async () => {
      current = await start();
      const traffic = startTraffic(() => current?.callbackUrl);
      for (let kill = 0; kill < KILLS; kill++) {
        await traffic.waitForAcks(5);
        // The kill lands anywhere: mid-request, mid-commit, mid-delivery, between batches.
        const delay = Math.floor(Math.random() * 400);
        killDelays.push(delay);
        await new Promise((r) => setTimeout(r, delay));
        const dying = current;
        current = undefined;
        dying.child.kill('SIGKILL');
        await dying.exited;
        current = await start();
      }
      await traffic.waitForAcks(5);
      await traffic.stop();
      const acked = [...traffic.acked.keys()];
      expect(acked.length, 'the client got through to every incarnation').to.be.greaterThan(30);

      // Every stored event (acknowledged or cut off before its reply) must arrive; the lease of a killed sender expires first.
      const stored = await readEvents(store.at);
      const delivered = (): Map<string, Set<string>> => groupWebhookIds(receiver);
      await receiver
        .waitFor(() => stored.every((e) => delivered().has(e.control_number)), 30_000)
        .catch((err: Error) => {
          throw new Error(`${err.message} (kill delays ${killDelays.join(', ')} ms)`);
        });
      current.child.kill('SIGTERM');
      expect(await current.exited).to.equal(0);
      current = undefined;

      const byControl = new Map((await readEvents(store.at)).map((e) => [e.control_number, e]));
      const ids = delivered();
      for (const cn of acked) {
        expect(byControl.get(cn)?.n, `acknowledged ${cn} stored once`).to.equal(1);
      }
      for (const [cn, event] of byControl) {
        expect([...(ids.get(cn) ?? [])], `${cn} delivered under its one delivery id`).to.deep.equal([
          event.delivery_ids,
        ]);
      }
    });
  };
}

describe(
  'crash loop: SIGKILL the built daemon five times under steady callbacks',
  crashLoop(
    () => {
      const dbPath = path.join(makeTempDir('skyrelay-crash-loop'), 'skyrelay.db');
      return Promise.resolve({ config: { path: dbPath }, at: dbPath });
    },
    () => Promise.resolve(),
  ),
);

let db: TestDatabase | undefined;
describePostgres(
  'crash loop on PostgreSQL: SIGKILL the built daemon five times under steady callbacks',
  crashLoop(
    async () => {
      db = await createTestDatabase();
      return { config: { url: db.url }, at: { url: db.url } };
    },
    async () => {
      await db?.drop();
    },
  ),
);

/** Events with deliveries, by control number: how many events, and their delivery ids. */
async function readEvents(at: string | { url: string }): Promise<StoredEvent[]> {
  const deliveries = await withStore(at, (store) => store.listDeliveries({ limit: ALL }));
  const byControl = new Map<string, { events: Set<string>; ids: string[] }>();
  for (const d of [...deliveries].reverse()) {
    if (d.controlNumber === null) continue;
    const entry = byControl.get(d.controlNumber) ?? { events: new Set<string>(), ids: [] };
    entry.events.add(d.eventId);
    entry.ids.push(d.id);
    byControl.set(d.controlNumber, entry);
  }
  return [...byControl].map(([cn, e]) => ({ control_number: cn, n: e.events.size, delivery_ids: e.ids.join(',') }));
}

function groupWebhookIds(receiver: Receiver): Map<string, Set<string>> {
  const ids = new Map<string, Set<string>>();
  for (const request of receiver.requests) {
    const cn = (request.json as { data?: { controlNumber?: string } } | undefined)?.data?.controlNumber;
    if (cn === undefined) continue;
    const set = ids.get(cn) ?? new Set<string>();
    set.add(String(request.headers['webhook-id']));
    ids.set(cn, set);
  }
  return ids;
}
