/**
 * The proof of ordered delivery: 1,000 payouts of 3 or 4 statuses each, some callbacks sent twice, to two delivery
 * processes (a pm2 cluster on one SQLite file; two daemons on one PostgreSQL database, one of them SIGKILLed and
 * replaced under load), a consumer failing 20% of attempts at random. Each attempt the consumer saw is judged
 * against the order skyrelay stored the payout's events in: none is sent before the payout's earlier events were
 * taken, none after a later one was; every stored event reaches the consumer.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir, waitUntil } from '../../support/daemon';
import { note } from '../../support/notes';
import { judgeOrder, sendPayouts, startFlakyConsumer, type FlakyConsumer } from '../../support/payout-lines';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';
import { getRefusedUrl } from '../../support/receiver';
import { REPO_ROOT, spawnDaemon, type SpawnedDaemon } from '../../support/spawn';
import { ALL, withStore } from '../../support/store';

const run = promisify(execFile);
const PM2 = path.join(REPO_ROOT, 'node_modules', '.bin', 'pm2');
const SECRET = `whsec_${Buffer.from('ordered-proof-secret-0123456789').toString('base64')}`;
const PAYOUTS = 1_000;
const FAIL_SHARE = 0.2;
/** Small, so the SIGKILLed daemon's leases (twice this plus 5 s) run out within the test. */
const TIMEOUT_MS = 1_000;

function orderedConfig(consumer: FlakyConsumer): Record<string, unknown> {
  return {
    destinations: {
      ledger: {
        type: 'webhook',
        url: `${consumer.receiver.url}/hooks`,
        secret: SECRET,
        ordered: true,
        maxInFlight: 16,
        // A consumer refusing a fifth of attempts at random is not down: what is proved here is the order.
        breaker: false,
      },
    },
    rules: [{ name: 'ledger-feed', to: ['ledger'] }],
    // A payout's retries come soon and never give up here: every event must get through, in order.
    delivery: { maxAttempts: 40, initialBackoffMs: 20, maxBackoffMs: 200, timeoutMs: TIMEOUT_MS, pollIntervalMs: 100 },
  };
}

/** Sends the load, waits until every stored delivery is delivered, and judges what the consumer saw. */
async function proveOrder(
  at: string | { url: string },
  consumer: FlakyConsumer,
  targets: () => readonly string[],
  midway: (done: number) => void,
): Promise<void> {
  const started = Date.now();
  const sent = await sendPayouts(targets, {
    payouts: PAYOUTS,
    concurrency: 24,
    duplicateShare: 0.15,
    onProgress: midway,
  });
  const events = [...sent.lifecycles.values()].reduce((n, l) => n + l.length, 0);
  const acked = Date.now();
  const taken = () => new Set(consumer.seen.filter((s) => s.accepted).map((s) => s.deliveryId)).size;
  await waitUntil(() => taken() >= events, `the consumer to take all ${events} events`, 90_000);
  await waitUntil(async () => {
    const states = await withStore(at, (store) => store.listDeliveries({ destination: 'ledger', limit: ALL }));
    return states.length === events && states.every((d) => d.state === 'delivered');
  }, 'every delivery to be recorded delivered');
  const verdict = await judgeOrder(at, 'ledger', consumer, sent);
  expect(verdict.deliveries, 'one delivery per acknowledged status, duplicates stored once').to.equal(events);
  expect(verdict.misnumbered, 'payouts stored out of the order their statuses were acknowledged').to.deep.equal([]);
  expect(verdict.inversions.slice(0, 10), `${verdict.inversions.length} inversions`).to.deep.equal([]);
  expect(verdict.missing.slice(0, 10), `${verdict.missing.length} events the consumer never took`).to.deep.equal([]);
  expect(verdict.delivered).to.equal(events);
  // The consumer did refuse about a fifth of the attempts: the order was kept through retries.
  expect(verdict.refused).to.be.greaterThan(events * FAIL_SHARE * 0.5);
  note(
    `${PAYOUTS} payouts, ${events} events (+${sent.duplicates} duplicates) acknowledged in ` +
      `${((acked - started) / 1000).toFixed(1)} s, all delivered ${((Date.now() - acked) / 1000).toFixed(1)} s ` +
      `later; ${consumer.seen.length} attempts, ${verdict.refused} refused; 0 inversions`,
  );
}

describe('ordered delivery under load: a pm2 cluster of two on one SQLite file, reloaded midway', function () {
  this.timeout(180_000);
  const dir = makeTempDir('skyrelay-ordered-pm2');
  const dbPath = path.join(dir, 'skyrelay.db');
  let consumer: FlakyConsumer;
  let env: NodeJS.ProcessEnv;
  let baseUrl: string;
  const pm2 = (...args: string[]) => run(PM2, args, { cwd: REPO_ROOT, env, timeout: 60_000 });
  const online = async (): Promise<number> =>
    (JSON.parse((await pm2('jlist')).stdout) as { pm2_env: { status: string } }[]).filter(
      (p) => p.pm2_env.status === 'online',
    ).length;

  before(async () => {
    consumer = await startFlakyConsumer(FAIL_SHARE);
    baseUrl = await getRefusedUrl();
    env = {
      ...process.env,
      PM2_HOME: path.join(dir, 'pm2'),
      SKYRELAY_INSTANCES: '2',
      SKYRELAY_LOG_DIR: dir,
      NODE_CONFIG_DIR: path.join(REPO_ROOT, 'config'),
      SUPPRESS_NO_CONFIG_WARNING: 'y',
      NODE_CONFIG: JSON.stringify({
        server: { host: '127.0.0.1', port: Number(new URL(baseUrl).port) },
        store: { path: dbPath, synchronous: 'NORMAL' },
        ...orderedConfig(consumer),
      }),
    };
    await pm2('start', 'ecosystem.config.js');
    await waitUntil(async () => (await online()) === 2, 'two online workers', 30_000);
    await waitUntil(
      async () => (await fetch(`${baseUrl}/readyz`).catch(() => undefined))?.status === 200,
      'readiness',
      15_000,
    );
  });
  after(async () => {
    await pm2('kill').catch(() => undefined);
    await consumer?.receiver.close();
  });

  it('delivers every event of 1,000 payouts in the order stored, through 20% refusals and a reload', async () => {
    let reload: Promise<unknown> | undefined;
    await proveOrder(
      dbPath,
      consumer,
      () => [`${baseUrl}/callbacks/skypay`],
      (done) => {
        // Both workers replaced one by one while callbacks flow and lines are mid-way.
        if (done === PAYOUTS / 3) reload = pm2('reload', 'skyrelay');
      },
    );
    await reload;
    expect(await online()).to.equal(2);
  });
});

describePostgres('ordered delivery under load: two daemons on one PostgreSQL database, one SIGKILLed', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let consumer: FlakyConsumer;
  const procs: SpawnedDaemon[] = [];

  before(async () => {
    db = await createTestDatabase();
    consumer = await startFlakyConsumer(FAIL_SHARE);
  });
  after(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await consumer?.receiver.close();
    await db?.drop();
  });

  it('delivers every event of 1,000 payouts in the order stored, through 20% refusals and a SIGKILL', async () => {
    const config = {
      server: { host: '127.0.0.1', port: 0 },
      store: { url: db.url, poolSize: 4 },
      ...orderedConfig(consumer),
    };
    procs.push(...(await Promise.all([spawnDaemon(config), spawnDaemon(config)])));
    const alive = [...procs];
    let replaced: Promise<void> | undefined;
    await proveOrder(
      { url: db.url },
      consumer,
      () => alive.map((p) => p.callbackUrl),
      (done) => {
        if (done !== PAYOUTS / 3) return;
        // Killed with sends and leases in flight; a new process takes its place (its leases run out first).
        const killed = alive.pop() as SpawnedDaemon;
        killed.child.kill('SIGKILL');
        replaced = (async () => {
          expect(await killed.exited).to.equal('SIGKILL');
          const fresh = await spawnDaemon(config);
          procs.push(fresh);
          alive.push(fresh);
        })();
      },
    );
    await replaced;
  });
});
