import { fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitUntil } from '../support/daemon';
import { DAEMON_ENTRY, REPO_ROOT } from '../support/spawn';

/** A server under load in its own process, so its CPU and memory are its own. */
export interface BenchServer {
  label: string;
  pid: number;
  callbackUrl: string;
  /** Several daemons measured as one (combineServers): the load is split across these. */
  callbackUrls?: readonly string[];
  /** Peak resident set (VmHWM) so far, in MiB. */
  readPeakRssMb(): number;
  /** CPU time (user + system) the process has used so far, in ms. */
  readCpuMs(): number;
  /**
   * Statements every daemon on this store has sent it so far (/metrics' skyrelay_store_statements_total, summed
   * over the processes it shows); undefined for a server without it (bare Koa, an older build).
   */
  readStatements(): Promise<number | undefined>;
  stop(): Promise<void>;
}

export const WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
/** The daemon runs with NODE_ENV=production, which refuses the documentation's public sample key. */
export const BENCH_AUTH = 'skyrelay-bench-key-0001';

/**
 * The built daemon as operators run it (dist/main.js, NODE_ENV=production,
 * config/ plus NODE_CONFIG), logging to a file the way pm2 would rather
 * than to a pipe the bench has to drain.
 */
export interface BenchDaemonOptions {
  label: string;
  dbPath: string;
  /** A PostgreSQL database (store.url) instead of the SQLite file at dbPath. */
  databaseUrl?: string;
  sinkUrl: string;
  synchronous: 'FULL' | 'NORMAL';
  logFile: string;
  /** The sink destination's maxInFlight; undefined keeps the shipped default (4). */
  maxInFlight: number | undefined;
  /** No destination at all: isolates what ingest alone costs. */
  ingestOnly: boolean;
  /** Another build's dist/main.js (a before/after comparison); the repository's own by default. */
  entry?: string;
  /** More settings of the sink destination (`ordered`, ...). */
  sinkSettings?: Record<string, unknown>;
  /** Settings over the bench's own (the history phase's dashboard, destinations and rules). */
  config?: Record<string, unknown>;
  /** How long starting may take: a first start on a seeded store migrates it. */
  startTimeoutMs?: number;
}

export async function spawnBenchDaemon(options: BenchDaemonOptions): Promise<BenchServer> {
  const sink = {
    type: 'webhook',
    url: `${options.sinkUrl}/`,
    secret: WEBHOOK_SECRET,
    ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
    ...options.sinkSettings,
  };
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    store:
      options.databaseUrl === undefined
        ? { path: options.dbPath, synchronous: options.synchronous }
        : { url: options.databaseUrl },
    skypay: { partners: [{ userName: 'AppName@skypay', authentication: [BENCH_AUTH] }] },
    destinations: options.ingestOnly ? {} : { sink },
    rules: options.ingestOnly ? [] : [{ name: 'all', to: ['sink'] }],
    // Statement counts reach /metrics with each publish: soon after the load, for the round trips per callback.
    metrics: { publishIntervalMs: 500 },
    ...options.config,
  };
  const log = fs.openSync(options.logFile, 'w');
  // BENCH_DAEMON_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the daemon under load.
  const nodeArgs = (process.env['BENCH_DAEMON_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, options.entry ?? DAEMON_ENTRY], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      // A baseline build reads its own defaults: a key this build added is unknown to it.
      NODE_CONFIG_DIR: path.join(
        options.entry === undefined ? REPO_ROOT : path.dirname(path.dirname(options.entry)),
        'config',
      ),
      NODE_CONFIG: JSON.stringify(config),
    },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  const exited = watchExit(child);
  let port: number | undefined;
  await waitUntil(
    () => {
      if (exited.done) throw new Error(`${options.label} exited before listening; see ${options.logFile}`);
      const text = fs.readFileSync(options.logFile, 'utf8');
      const line = text.split('\n').find((l) => l.includes('"msg":"skyrelay listening"'));
      port = line === undefined ? undefined : Number(/"port":(\d+)/.exec(line)?.[1]);
      return port !== undefined;
    },
    `${options.label} to listen`,
    options.startTimeoutMs ?? 60_000,
  );
  const server = describeServer(options.label, child, exited, `http://127.0.0.1:${port}/callbacks/skypay`);
  return { ...server, readStatements: () => readStatements(`http://127.0.0.1:${port}/metrics`) };
}

/** The sum of skyrelay_store_statements_total over the processes a scrape shows; undefined when it has none. */
async function readStatements(metricsUrl: string): Promise<number | undefined> {
  const text = await fetch(metricsUrl)
    .then((r) => r.text())
    .catch(() => '');
  const values = [...text.matchAll(/^skyrelay_store_statements_total(?:\{[^}]*\})? (\S+)$/gm)].map((m) => Number(m[1]));
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
}

/** A forked helper (bare Koa, sink) that reports its port over IPC once listening. */
export async function forkHelper(
  label: string,
  script: string,
  args: string[] = [],
): Promise<{ child: ChildProcess; port: number; server: BenchServer }> {
  const child = fork(path.join(__dirname, script), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = watchExit(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port?: number }) =>
      m.port ? resolve(m.port) : reject(new Error(`${label}: bad hello`)),
    );
    child.once('exit', () => reject(new Error(`${label} exited before listening`)));
  });
  return { child, port, server: describeServer(label, child, exited, `http://127.0.0.1:${port}/callbacks/skypay`) };
}

function watchExit(child: ChildProcess): { done: boolean; promise: Promise<void> } {
  const state = { done: false, promise: Promise.resolve() };
  state.promise = new Promise((resolve) =>
    child.once('exit', () => {
      state.done = true;
      resolve();
    }),
  );
  return state;
}

function describeServer(
  label: string,
  child: ChildProcess,
  exited: { done: boolean; promise: Promise<void> },
  callbackUrl: string,
): BenchServer {
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${label} has no pid`);
  return {
    label,
    pid,
    callbackUrl,
    readPeakRssMb: () => readVmHwmMb(pid),
    readCpuMs: () => readCpuMs(pid),
    readStatements: () => Promise.resolve(undefined),
    async stop() {
      if (exited.done) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited.promise;
      clearTimeout(killer);
    },
  };
}

/**
 * Several daemons measured as one: CPU summed, peak RSS the worst process's
 * (each has its own limit), stopped together. The load is split across
 * their callback URLs (see measurePhase).
 */
export function combineServers(label: string, servers: readonly BenchServer[]): BenchServer {
  const first = servers[0];
  if (first === undefined) throw new Error(`${label}: no servers`);
  return {
    label,
    pid: first.pid,
    callbackUrl: first.callbackUrl,
    callbackUrls: servers.map((s) => s.callbackUrl),
    readPeakRssMb: () => Math.max(...servers.map((s) => s.readPeakRssMb())),
    readCpuMs: () => servers.reduce((sum, s) => sum + s.readCpuMs(), 0),
    // Every daemon's scrape shows all the processes on the shared store: one is the whole count.
    readStatements: () => first.readStatements(),
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

/** VmHWM is the kernel's own high-water mark of the resident set: no sampling gaps. */
export function readVmHwmMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/**
 * utime + stime from /proc/<pid>/stat. CPU per callback barely moves when
 * other work shares the machine, unlike throughput, so it is what compares
 * optimisation steps measured at different times.
 */
export function readCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

// USER_HZ is 100 on every Linux build Node supports.
const CLOCK_TICKS_PER_SECOND = 100;
