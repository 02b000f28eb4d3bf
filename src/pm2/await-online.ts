#!/usr/bin/env node
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * The second half of `npm run start:daemon`. `pm2 start` says "App launched" and exits 0 once it has forked the
 * app, even when the app stops at once (an invalid configuration exits 78 a moment later) or keeps crashing. This
 * waits until every instance of the app is online (with wait_ready: after the daemon said it can take callbacks)
 * and has stayed online, same pid, for pm2's min_uptime; otherwise it prints the end of the app's error log and
 * exits 1, so a deploy script or an operator at a shell sees the failure where they started it.
 */

/** What this reads of one process in `pm2 jlist`. */
export interface Pm2Process {
  pid: number;
  pm_id: number;
  name: string;
  pm2_env: {
    status: string;
    restart_time?: number;
    exit_code?: number;
    min_uptime?: number;
    pm_err_log_path?: string;
  };
}

/** When each instance was first seen online, by pm_id, with the pid it had then. */
export type OnlineSince = ReadonlyMap<number, { pid: number; sinceMs: number }>;

export type LaunchState =
  | { kind: 'online'; instances: number }
  | { kind: 'waiting'; onlineSince: OnlineSince }
  | { kind: 'failed'; reason: string };

/** pm2's min_uptime when the app does not set one (lib/API/schema.json). */
export const PM2_DEFAULT_MIN_UPTIME_MS = 1_000;

/** The config error exit code (src/config/load.ts CONFIG_ERROR_EXIT_CODE), said in words when pm2 reports it. */
const CONFIG_ERROR_EXIT_CODE = 78;

/**
 * One look at pm2's list: online when every instance of `name` has been online with the same pid for at least
 * `settleMs`; failed as soon as one is stopped or errored (pm2 gave up on it, or its exit code is in
 * stop_exit_codes); waiting otherwise. A pid that changes is a restart: its wait starts again.
 */
export function judgeLaunch(
  list: readonly Pm2Process[],
  name: string,
  nowMs: number,
  settleMs: number,
  seen: OnlineSince,
): LaunchState {
  const instances = list.filter((p) => p.name === name);
  for (const p of instances) {
    const { status, exit_code: code } = p.pm2_env;
    if (status === 'errored')
      return { kind: 'failed', reason: `${name}:${p.pm_id} errored: pm2 stopped restarting it` };
    if (status === 'stopped') {
      const why =
        code === CONFIG_ERROR_EXIT_CODE
          ? `exit code ${code}: the configuration is invalid`
          : `exit code ${code ?? 'unknown'}`;
      return { kind: 'failed', reason: `${name}:${p.pm_id} stopped (${why})` };
    }
  }
  const onlineSince = new Map<number, { pid: number; sinceMs: number }>();
  for (const p of instances) {
    if (p.pm2_env.status !== 'online') continue;
    const before = seen.get(p.pm_id);
    onlineSince.set(p.pm_id, before?.pid === p.pid ? before : { pid: p.pid, sinceMs: nowMs });
  }
  const settled =
    instances.length > 0 &&
    instances.every((p) => {
      const since = onlineSince.get(p.pm_id);
      return since !== undefined && nowMs - since.sinceMs >= settleMs;
    });
  return settled ? { kind: 'online', instances: instances.length } : { kind: 'waiting', onlineSince };
}

/** The last `lines` lines of a log file (the reason a stopped app gave is at its end); empty when unreadable. */
export function readLogTail(file: string, lines: number, maxBytes = 64 * 1024): string {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    const text = buffer.toString('utf8').replace(/\n$/, '');
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

interface EcosystemApp {
  name?: string;
  min_uptime?: number | string;
  listen_timeout?: number;
}

const POLL_MS = 250;
const TAIL_LINES = 20;

async function main(): Promise<number> {
  const root = path.join(__dirname, '..', '..');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ecosystem = require(path.join(root, 'ecosystem.config.js')) as { apps: EcosystemApp[] };
  const app = ecosystem.apps[0] ?? {};
  const name = app.name ?? 'skyrelay';
  const settleMs = typeof app.min_uptime === 'number' ? app.min_uptime : PM2_DEFAULT_MIN_UPTIME_MS;
  // pm2 waits listen_timeout for the ready signal before it counts the app online regardless.
  const timeoutMs = (app.listen_timeout ?? 15_000) + settleMs + 15_000;
  const pm2 = path.join(path.dirname(require.resolve('pm2/package.json')), 'bin', 'pm2');
  const list = async (): Promise<Pm2Process[]> => {
    const { stdout } = await promisify(execFile)(process.execPath, [pm2, 'jlist'], { maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(stdout) as Pm2Process[];
  };

  const deadline = Date.now() + timeoutMs;
  let seen: OnlineSince = new Map();
  for (;;) {
    const last = await list();
    const state = judgeLaunch(last, name, Date.now(), settleMs, seen);
    if (state.kind === 'online') {
      process.stdout.write(`${name}: ${state.instances} instance(s) online\n`);
      return 0;
    }
    if (state.kind === 'failed') return fail(state.reason, last, name);
    if (Date.now() >= deadline) {
      return fail(`not online after ${Math.round(timeoutMs / 1000)} s`, last, name);
    }
    seen = state.onlineSince;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function fail(reason: string, list: readonly Pm2Process[], name: string): number {
  const logs = [...new Set(list.filter((p) => p.name === name).map((p) => p.pm2_env.pm_err_log_path))];
  const lines = [`${name} did not start: ${reason}`];
  for (const log of logs) {
    if (log === undefined) continue;
    const tail = readLogTail(log, TAIL_LINES);
    lines.push('', `last lines of ${log}:`, tail === '' ? '(empty)' : tail);
  }
  lines.push('', `see: pm2 logs ${name} --lines 100; fix the cause, then npm run start:daemon again`);
  process.stderr.write(`${lines.join('\n')}\n`);
  return 1;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`could not read pm2's process list: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
