import { expect } from 'chai';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../support/spawn';

const SUPPORT = path.join(__dirname, '..', '..', 'support');
const RUN_TESTS = path.join(SUPPORT, 'run-tests.js');
const WRITERS = path.join(SUPPORT, 'stdout-writers.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

// eslint-disable-next-line no-control-regex -- ANSI colour sequences start with ESC
const COLOURS = /\x1b\[[0-9;]*m/g;
const stripColours = (text: string): string => text.replace(COLOURS, '');

/** npm test's runner on one small suite that writes to stdout as `writer` says. */
function runTests(writer: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN_TESTS, WRITERS], {
      cwd: REPO_ROOT,
      // One process: the reporter itself prints a test's notes under its line (a parallel run sends them to stderr).
      env: { ...process.env, STDOUT_WRITER: writer, SKYRELAY_TEST_JOBS: '1' },
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
    // Under CI=true mocha colours its output; the assertions read the text.
    child.on('close', (code) => resolve({ code, stdout: stripColours(stdout), stderr }));
  });
}

describe('npm test: nothing but the reporter writes to stdout', () => {
  it("passes a run whose tests leave their numbers to notes, shown under the test's line", async () => {
    const run = await runTests('none');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/✔ writes the way STDOUT_WRITER says\n\s+\(measured 42 ms\)\n/);
    expect(run.stdout).to.contain('1 passing');
  });

  for (const [writer, text] of [
    ['console', 'a stray console.log'],
    ['fd', 'a stray write to fd 1'],
    ['child', 'a stray line from a child with inherited stdio'],
  ] as const) {
    it(`fails a passing run whose test writes to stdout (${writer}), and shows what was written on stderr`, async () => {
      const run = await runTests(writer);
      expect(run.code).to.equal(1);
      expect(run.stdout).to.contain('1 passing');
      expect(run.stdout).not.to.contain(text);
      expect(run.stderr).to.contain('reached stdout from something other than the mocha reporter');
      expect(run.stderr).to.contain(text);
    });
  }
});
