import fs from 'node:fs';
import { format } from 'node:util';
import Mocha from 'mocha';
import { takeRunNotes, takeTestNotes } from './notes';

const { Base, Spec } = Mocha.reporters;
const { EVENT_RUN_END, EVENT_SUITE_END, EVENT_TEST_FAIL, EVENT_TEST_PASS } = Mocha.Runner.constants;

/**
 * mocha's spec reporter, plus the notes tests leave (notes.ts). Under run-tests.ts it writes to the pipe that
 * SKYRELAY_REPORTER_FD names instead of stdout, so that anything arriving on stdout is known not to be the
 * reporter's.
 */
const reporterFd = Number(process.env['SKYRELAY_REPORTER_FD']);
if (Number.isInteger(reporterFd) && reporterFd > 2) {
  Base.consoleLog = (...args: unknown[]): void => writeAll(reporterFd, `${format(...args)}\n`);
}

class SkyrelayReporter extends Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    // Registered after Spec's own listeners, so a test's notes come right under its line.
    const printTestNotes = (test: Mocha.Runnable): void => {
      let depth = 0;
      for (let suite = test.parent; suite; suite = suite.parent) depth += 1;
      const indent = '  '.repeat(Math.max(depth - 1, 0)) + '    ';
      for (const line of takeTestNotes()) Base.consoleLog(`${indent}${Base.color('light', `(${line})`)}`);
    };
    runner.on(EVENT_TEST_PASS, printTestNotes);
    runner.on(EVENT_TEST_FAIL, printTestNotes);
    // Notes a hook left: shown where its suite ends rather than lost.
    runner.on(EVENT_SUITE_END, (suite: Mocha.Suite) => {
      const lines = takeTestNotes();
      for (const line of lines) Base.consoleLog(`  ${'  '.repeat(suite.titlePath().length)}(${line})`);
    });
    runner.once(EVENT_RUN_END, () => {
      const lines = takeRunNotes();
      for (const line of lines) Base.consoleLog(`  ${line}`);
      if (lines.length > 0) Base.consoleLog();
    });
  }
}

/** A blocking write of all of `text`: mocha ends with process.exit (--exit), which would drop a queued one. */
function writeAll(fd: number, text: string): void {
  let rest = Buffer.from(text, 'utf8');
  while (rest.length > 0) {
    try {
      rest = rest.subarray(fs.writeSync(fd, rest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      // The reading end is behind: wait a moment for it (a pipe set non-blocking by whoever made it).
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

export = SkyrelayReporter;
