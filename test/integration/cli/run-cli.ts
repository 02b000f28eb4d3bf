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
export function runCli(
  args: string[],
  config: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
      cwd: path.join(REPO_ROOT, '..'),
      env: cliEnv(config, env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function cliEnv(config: Record<string, unknown>, env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'test',
    NODE_CONFIG_DIR: path.join(REPO_ROOT, 'config'),
    NODE_CONFIG: JSON.stringify(config),
    SUPPRESS_NO_CONFIG_WARNING: 'y',
    ...env,
  };
}

const shellQuote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI on a real pseudo-terminal (util-linux `script`), as an operator
 * at a shell would, and types `answer` and Enter once `prompt` shows. stdout
 * is the terminal's output (stderr is on the same terminal); `\r\n` line ends.
 */
export function runCliOnTty(
  args: string[],
  config: Record<string, unknown>,
  prompt: string,
  answer: string,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, CLI_ENTRY, ...args].map(shellQuote).join(' ');
    const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], {
      cwd: path.join(REPO_ROOT, '..'),
      env: cliEnv(config, {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let answered = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      if (!answered && stdout.includes(prompt)) {
        answered = true;
        child.stdin.write(`${answer}\r`);
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    child.on('error', reject);
    // stdin stays open until the command ends: `script` hangs up the terminal at its end of input.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
