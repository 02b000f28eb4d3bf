import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir, waitUntil } from '../../support/daemon';
import { getRefusedUrl } from '../../support/receiver';
import { REPO_ROOT } from '../../support/spawn';
import { buildCallback, postCallback } from '../../support/skypay';
import { note } from '../../support/notes';
import { ALL, withStore } from '../../support/store';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../support/postgres';

const run = promisify(execFile);
const PM2 = path.join(REPO_ROOT, 'node_modules', '.bin', 'pm2');

interface Pm2Process {
  pid: number;
  pm2_env: { status: string; exit_code?: number };
}

/**
 * Real pm2 from the project's dependencies, with a private PM2_HOME so a
 * developer's own pm2 is never touched, running ecosystem.config.js as
 * operators do: two cluster workers on one port and one SQLite file.
 */
interface ReloadStore {
  /** store.* for the workers' config. */
  config: Record<string, unknown>;
  /** Where the test reads what was stored. */
  at: string | { url: string };
}

function reloadSuite(open: (dir: string) => Promise<ReloadStore>, close: () => Promise<void>) {
  return function (this: Mocha.Suite): void {
    this.timeout(90_000);
    const dir = makeTempDir('skyrelay-pm2');
    let store: ReloadStore;
    let env: NodeJS.ProcessEnv;
    let baseUrl: string;

    const pm2 = (...args: string[]) => run(PM2, args, { cwd: REPO_ROOT, env, timeout: 60_000 });
    const list = async (): Promise<Pm2Process[]> => JSON.parse((await pm2('jlist')).stdout) as Pm2Process[];

    before(async () => {
      baseUrl = await getRefusedUrl();
      store = await open(dir);
      env = {
        ...process.env,
        PM2_HOME: path.join(dir, 'pm2'),
        SKYRELAY_INSTANCES: '2',
        SKYRELAY_LOG_DIR: dir,
        NODE_CONFIG_DIR: path.join(REPO_ROOT, 'config'),
        SUPPRESS_NO_CONFIG_WARNING: 'y',
        NODE_CONFIG: JSON.stringify({
          server: { host: '127.0.0.1', port: Number(new URL(baseUrl).port) },
          store: store.config,
          metrics: { publishIntervalMs: 200 },
        }),
      };
      await pm2('start', 'ecosystem.config.js');
      await waitUntil(
        async () => (await list()).filter((p) => p.pm2_env.status === 'online').length === 2,
        'two online workers',
        30_000,
      );
      await waitUntil(
        async () => (await fetch(`${baseUrl}/readyz`).catch(() => undefined))?.status === 200,
        'readiness',
        15_000,
      );
    });
    after(async () => {
      await pm2('kill').catch(() => undefined);
      await close();
    });

    it('acknowledges every callback with 1000 and stores each exactly once while both workers are replaced', async () => {
      const before = (await list()).map((p) => p.pid);
      const sent: string[] = [];
      const failures: string[] = [];
      let sending = true;
      const sender = async (): Promise<void> => {
        while (sending) {
          const body = buildCallback({ payType: '2' });
          sent.push(String(body['controlNumber']));
          try {
            const res = await postCallback(`${baseUrl}/callbacks/skypay`, body);
            if (res.json?.['responseCode'] !== '1000') failures.push(`${res.status} ${res.text}`);
          } catch (err) {
            failures.push(String((err as { cause?: unknown }).cause ?? err));
          }
        }
      };
      const senders = Array.from({ length: 4 }, sender);
      await waitUntil(() => sent.length >= 50, 'traffic to flow');
      const beforeReload = sent.length;
      const reload = await pm2('reload', 'skyrelay');
      expect(reload.stdout).to.match(/\[skyrelay\]\(ids: \[ 0, 1 \]\)/);
      const duringReload = sent.length - beforeReload;
      await waitUntil(() => sent.length >= beforeReload + duringReload + 50, 'traffic after the reload');
      sending = false;
      await Promise.all(senders);

      const after = await list();
      expect(after.map((p) => p.pm2_env.status)).to.deep.equal(['online', 'online']);
      expect(after.map((p) => p.pid).filter((pid) => before.includes(pid))).to.deep.equal([]);
      expect(failures).to.deep.equal([]);
      const events = await withStore(store.at, (s) => s.listEvents({ limit: ALL }));
      const stored = new Map<string | null, number>();
      for (const e of events) stored.set(e.controlNumber, (stored.get(e.controlNumber) ?? 0) + 1);
      expect([...stored].filter(([, n]) => n !== 1)).to.deep.equal([]);
      expect([...stored.keys()].sort()).to.deep.equal([...sent].sort());
      // pm2 asked the old workers to stop with SIGINT and waited for them to drain (no SIGKILL).
      const out = fs.readFileSync(path.join(dir, 'skyrelay.out.log'), 'utf8');
      for (const pid of before) {
        expect(out).to.match(new RegExp(`"pid":${pid},[^\\n]*"signal":"SIGINT","msg":"draining"`));
        expect(out).to.match(new RegExp(`"pid":${pid},[^\\n]*"msg":"skyrelay stopped"`));
      }
      // Whichever worker answers the scrape counts every callback, including those the replaced workers took.
      const accepted = async () => {
        const text = await (await fetch(`${baseUrl}/metrics`)).text();
        return Number(/^skyrelay_callbacks_total\{outcome="accepted"\} (\d+)$/m.exec(text)?.[1] ?? 0);
      };
      await waitUntil(async () => (await accepted()) === sent.length, `/metrics to count all ${sent.length} callbacks`);
      const pm2Log = fs.readFileSync(path.join(dir, 'pm2', 'pm2.log'), 'utf8');
      for (const id of [0, 1])
        expect(pm2Log).to.contain(`App [skyrelay:_old_${id}] exited with code [0] via signal [SIGINT]`);
      expect(pm2Log).not.to.match(/SIGKILL/);
      note(`${sent.length} callbacks: ${beforeReload} before, ${duringReload} during and the rest after the reload`);
    });
  };
}

describe(
  'pm2 reload under a steady stream of callbacks',
  reloadSuite(
    (dir) => {
      const dbPath = path.join(dir, 'skyrelay.db');
      return Promise.resolve({ config: { path: dbPath, synchronous: 'NORMAL' }, at: dbPath });
    },
    () => Promise.resolve(),
  ),
);

let db: TestDatabase | undefined;
describePostgres(
  'pm2 reload on PostgreSQL under a steady stream of callbacks',
  reloadSuite(
    async () => {
      db = await createTestDatabase();
      return { config: { url: db.url }, at: { url: db.url } };
    },
    async () => {
      await db?.drop();
    },
  ),
);
