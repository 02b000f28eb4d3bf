import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { validateConfig } from '../../src/config/load';
import type { Config } from '../../src/config/schema';
import type Router from '@koa/router';
import { Daemon } from '../../src/daemon';
import type { AttemptReport } from '../../src/delivery/types';
import type { CallbackOutcome } from '../../src/ingest/types';
import type { NewRejection } from '../../src/ingest/types';
import { createLogger } from '../../src/log';
import { mergeDeep, readDefaultConfig } from './config';
import { hangUpIdleRawSockets } from './raw-http';

export { mergeDeep, readDefaultConfig };

/** A fresh temp folder per test run; removed by the caller's cleanup. */
export function makeTempDir(label = 'skyrelay-test'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${label}-`));
}

/** What a test listens to (through the daemon's event bus, subscribed before start) and extra routers it mounts. */
export interface TestHooks {
  onOutcome?: (outcome: CallbackOutcome, ms: number) => void;
  onRejected?: (rejection: NewRejection) => void;
  onAttempt?: (report: AttemptReport) => void;
  routers?: Router[];
}

export interface TestDaemon {
  daemon: Daemon;
  config: Config;
  baseUrl: string;
  callbackUrl: string;
  dbPath: string;
  /** Every log line the daemon wrote, raw: for asserting what was (and was not) logged. */
  logs: string[];
  stop(): Promise<void>;
}

/**
 * Starts the real daemon in-process on an ephemeral port with a temp SQLite
 * file. `overrides` is merged over a minimal config the way node-config
 * merges (objects deep, arrays replaced).
 */
export async function startTestDaemon(
  overrides: Record<string, unknown> = {},
  /** `clock`: the daily ledger's clock (time is the one thing a test may mock). */
  options: { dbPath?: string; hooks?: TestHooks; clock?: () => number } = {},
): Promise<TestDaemon> {
  const dbPath = options.dbPath ?? path.join(makeTempDir(), 'skyrelay.db');
  const raw = mergeDeep(
    readDefaultConfig(),
    {
      // Idle keep-alive sockets are left to expire while draining; tests need not wait for that.
      server: { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 500 },
      store: { path: dbPath, synchronous: 'NORMAL' },
      log: { level: 'info' },
    },
    overrides,
  );
  const config = validateConfig(raw);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const hooks = options.hooks ?? {};
  const daemon = new Daemon(config, createLogger({ level: config.log.level, destination: sink }), {
    ...(hooks.routers ? { routers: hooks.routers } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const { onOutcome, onRejected, onAttempt } = hooks;
  if (onOutcome) daemon.events.on('callback.outcome', ({ outcome, ms }) => onOutcome(outcome, ms));
  if (onRejected) daemon.events.on('callback.rejection', onRejected);
  if (onAttempt) daemon.events.on('delivery.attempt', onAttempt);
  await daemon.start();
  const { port } = daemon.address;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    daemon,
    config,
    baseUrl,
    callbackUrl: `${baseUrl}${config.skypay.path}`,
    dbPath,
    logs,
    stop: () => {
      hangUpIdleConnections();
      return daemon.stop();
    },
  };
}

/** Where Node's fetch keeps its connection pool (undici's global dispatcher, shared by every undici copy). */
const FETCH_POOL = Symbol.for('undici.globalDispatcher.1');

interface FetchPool {
  close(): Promise<void>;
}

/**
 * Hangs up this process's idle keep-alive connections, as a client that is done would. A stopping daemon lets
 * idle connections expire rather than cut them (a client may be sending its next callback on one right then), so
 * a test that fetched and then stops its daemon would otherwise wait out server.shutdownTimeoutMs every time.
 * Requests in flight finish on the old pool; later ones open a fresh one.
 */
export function hangUpIdleConnections(): void {
  const global = globalThis as unknown as Record<symbol, FetchPool | undefined>;
  const pool = global[FETCH_POOL];
  if (pool) {
    global[FETCH_POOL] = new (pool.constructor as new () => FetchPool)();
    void pool.close();
  }
  hangUpIdleRawSockets();
}

/** Polls a condition instead of sleeping; fails with `what` if it does not hold in time. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
