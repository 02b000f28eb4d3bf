import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { hangUpIdleConnections, waitUntil } from './daemon';

export const REPO_ROOT = path.join(__dirname, '..', '..', '..');
export const DAEMON_ENTRY = path.join(REPO_ROOT, 'dist', 'main.js');

export interface SpawnedDaemon {
  child: ChildProcess;
  baseUrl: string;
  callbackUrl: string;
  /** stdout+stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
}

/**
 * Starts the built daemon (dist/main.js) as its own process, configured the
 * way operators do it: config/ plus a NODE_CONFIG JSON override. Port 0; the
 * chosen port is read from the "skyrelay listening" log line.
 */
export async function spawnDaemon(
  config: Record<string, unknown>,
  env: Record<string, string> = {},
  /** A command the daemon runs under (`['strace', '-f', …]`): it is given node and the entry after these. */
  wrapper: readonly string[] = [],
): Promise<SpawnedDaemon> {
  const { child, output, exited } = startProcess(config, env, wrapper);
  let port: number | undefined;
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  await waitUntil(
    () => {
      if (dead) throw new Error(`daemon exited before listening:\n${output()}`);
      const m = /"msg":"skyrelay listening"/.test(output()) ? /"port":(\d+)/.exec(output()) : null;
      if (m) port = Number(m[1]);
      return port !== undefined;
    },
    'the spawned daemon to listen',
    20_000,
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const callbackPath = (config['skypay'] as { path?: string } | undefined)?.path ?? '/callbacks/skypay';
  return { child, baseUrl, callbackUrl: `${baseUrl}${callbackPath}`, output, exited };
}

/**
 * Starts the built daemon expecting it to refuse to start: resolves with its
 * exit code and output. If it listens instead, it is stopped and that fails.
 */
export async function spawnDaemonExpectingExit(
  config: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<{ code: number | string; output: string }> {
  const { child, output, exited } = startProcess(config, env);
  let code: number | string | undefined;
  void exited.then((c) => {
    code = c;
  });
  await waitUntil(
    () => {
      if (code === undefined && /"msg":"skyrelay listening"/.test(output())) {
        child.kill('SIGKILL');
        throw new Error(`the daemon started although it should have refused to:\n${output()}`);
      }
      return code !== undefined;
    },
    'the spawned daemon to exit',
    20_000,
  );
  return { code: code as number | string, output: output() };
}

function startProcess(config: Record<string, unknown>, env: Record<string, string>, wrapper: readonly string[] = []) {
  const [command = process.execPath, ...args] = [...wrapper, process.execPath, DAEMON_ENTRY];
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      NODE_CONFIG_DIR: path.join(REPO_ROOT, 'config'),
      NODE_CONFIG: JSON.stringify(withQuickDrain(config)),
      SUPPRESS_NO_CONFIG_WARNING: 'y',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Tests stop it with child.kill('SIGTERM'): the test's own idle connections go first, or the drain waits them out.
  const kill = child.kill.bind(child);
  child.kill = (signal?: NodeJS.Signals | number): boolean => {
    if (signal !== 'SIGKILL' && signal !== 9) hangUpIdleConnections();
    return kill(signal);
  };
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return { child, output: () => out, exited };
}

/**
 * While draining, the daemon lets idle keep-alive sockets expire rather than
 * cut them; a test's idle fetch sockets need not hold every stop for seconds.
 * Tests that exercise the drain itself set their own value.
 */
function withQuickDrain(config: Record<string, unknown>): Record<string, unknown> {
  const server = (config['server'] ?? {}) as Record<string, unknown>;
  return { ...config, server: { shutdownTimeoutMs: 1000, ...server } };
}
