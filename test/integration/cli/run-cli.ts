import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../support/spawn';

export const CLI_ENTRY = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `skyrelay` command as operators do: config/ plus a
 * NODE_CONFIG JSON override, from another working directory.
 */
export function runCli(args: string[], config: Record<string, unknown>, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
      cwd: path.join(REPO_ROOT, '..'),
      env: {
        ...process.env, NODE_ENV: 'test', NODE_CONFIG_DIR: path.join(REPO_ROOT, 'config'),
        NODE_CONFIG: JSON.stringify(config), SUPPRESS_NO_CONFIG_WARNING: 'y', ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
