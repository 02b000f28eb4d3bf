import fs from 'node:fs';
/**
 * What a test measured or a run left out, for the person reading the run: tests never write to stdout themselves
 * (run-tests.ts fails the run if anything but the reporter does). The reporter (reporter.ts) prints a test's notes
 * under its line and the run's notes after the summary; when another reporter runs (e.g. `npx mocha --no-config`),
 * whatever nobody printed goes to stderr as the process exits, as it does in a parallel run (mocha's workers).
 */

const forTest: string[] = [];
const forRun = new Set<string>();

/** A line about the test running now, e.g. what it measured: shown in brackets under the test's title. */
export function note(line: string): void {
  // In a parallel run (run-tests.ts) tests run in mocha's worker processes and the reporter in the main one, which
  // never sees this list: the line goes to stderr at once, beside the test that wrote it rather than under it.
  if (process.env['MOCHA_WORKER_ID'] !== undefined) {
    process.stderr.write(`  (${line})\n`);
    return;
  }
  forTest.push(line);
}

/**
 * A line about the whole run, shown once however many times it is given (e.g. why some suites were left out). Under
 * run-tests.ts, which runs test files in several processes, every process adds its lines to one file
 * (SKYRELAY_RUN_NOTES) and run-tests prints each line once at the end; run alone, the reporter prints them.
 */
export function noteRun(line: string): void {
  const shared = process.env['SKYRELAY_RUN_NOTES'];
  if (shared) fs.appendFileSync(shared, `${line}\n`);
  else forRun.add(line);
}

/** For the reporter: the notes given since the last call. */
export function takeTestNotes(): string[] {
  return forTest.splice(0);
}

/** For the reporter: the run's notes, each once. */
export function takeRunNotes(): string[] {
  const lines = [...forRun];
  forRun.clear();
  return lines;
}

process.once('exit', () => {
  for (const line of [...takeTestNotes(), ...takeRunNotes()]) process.stderr.write(`${line}\n`);
});
