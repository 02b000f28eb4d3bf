import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

/**
 * `npm test`, `npm run test:unit`, `npm run test:integration`: runs mocha (options from .mocharc.json) on the
 * compiled tests of the areas named, the folders under test/ (all but support/ and bench/ when none is named),
 * and fails the run if anything but the reporter wrote to stdout.
 *
 *   node .build-test/test/support/run-tests.js [AREA|SPEC ...] [MOCHA OPTION ...]
 *
 * How it tells the reporter from the rest: mocha runs as a child whose stdout is a pipe read here, while the
 * reporter (reporter.ts) writes to a second pipe (fd 3), copied here to stdout. So every byte on the child's
 * stdout is someone else's: a console.log in a test, a daemon logging in-process, a library, or a process a test
 * started with inherited stdio. Checking calls to process.stdout.write inside mocha's process would miss the
 * last two kinds (and pino, which writes to fd 1 directly), and diffing the output against the reporter's
 * lines afterwards cannot tell a stray line that happens to look like the reporter's.
 */

const TESTS = path.join(__dirname, '..');
const SOURCES = path.join(TESTS, '..', '..', 'test');
const MOCHA = require.resolve('mocha/bin/mocha.js');
/** How long stdout may stay open after mocha exits: longer means a process a test started still holds it. */
const CLOSE_GRACE_MS = 2000;
const SHOWN_BYTES = 4096;

interface Run {
  specs: string[];
  options: string[];
}

/**
 * What to run: the areas or spec files named (every area when none is), with the mocha options given after them.
 * With parallelism (below), files that stop the shared PostgreSQL server (they call stopPostgres) run afterwards in
 * a run of their own, one at a time: while they stop it, any other file using it would fail.
 */
function planRuns(argv: string[]): Run[] {
  const firstOption = argv.findIndex((a) => a.startsWith('-'));
  const named = firstOption === -1 ? argv : argv.slice(0, firstOption);
  const options = firstOption === -1 ? [] : argv.slice(firstOption);
  const areas = named.length > 0 ? named : defaultAreas();
  const color = process.stdout.isTTY && !options.some((o) => /^--(no-)?colou?rs?$/.test(o)) ? ['--color'] : [];
  const parallel = parallelism(options);
  if (parallel.length === 0) {
    const specs = areas.map((a) => (/^[a-z-]+$/.test(a) ? path.join(TESTS, a, '**', '*.test.js') : a));
    return [{ specs, options: [...color, ...options] }];
  }
  const files = areas.flatMap((a) => (/^[a-z-]+$/.test(a) ? listTestFiles(path.join(TESTS, a)) : [a]));
  const stopsPostgres = files.filter((f) => fs.readFileSync(f, 'utf8').includes('stopPostgres'));
  // Without a server they register nothing: a run of their own would only print "0 passing".
  const alone = process.env['SKYRELAY_TEST_DATABASE_URL'] ? stopsPostgres : [];
  const shared = files.filter((f) => !alone.includes(f));
  return [
    { specs: shared, options: [...color, ...parallel, ...options] },
    ...(alone.length > 0 ? [{ specs: alone, options: [...color, ...options] }] : []),
  ];
}

function listTestFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.test.js'))
    .map((f) => path.join(dir, f))
    .sort();
}

/**
 * Test files run in SKYRELAY_TEST_JOBS processes (3 unless set; 1 runs them in one process): most integration
 * tests wait on timers and receivers rather than the CPU, so on two cores three files at once took the suite
 * from 4 min 33 s to 2 min 21 s (925 tests). Each test starts its own daemon on an ephemeral port with its own
 * temp files or database, so files share nothing but the PostgreSQL server (see planRuns). Options of the caller's
 * own (--parallel, --jobs, --grep) decide for themselves.
 */
function parallelism(options: string[]): string[] {
  if (options.some((o) => /^--(no-)?parallel$|^--jobs|^-j$|^--grep|^-g$/.test(o))) return [];
  const jobs = Number(process.env['SKYRELAY_TEST_JOBS'] ?? '3');
  return Number.isInteger(jobs) && jobs > 1 ? ['--parallel', '--jobs', String(jobs)] : [];
}

function defaultAreas(): string[] {
  return fs
    .readdirSync(TESTS, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'support' && d.name !== 'bench')
    .map((d) => d.name)
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b));
}

/** Fast feedback first: pure units, then the store contract, then the running daemon, then it in Chromium. */
function order(area: string): number {
  const i = ['unit', 'contract', 'integration', 'browser'].indexOf(area);
  return i === -1 ? 4 : i;
}

/**
 * tsc never deletes what it emitted for a source that is gone, and mocha would still run a renamed test's old
 * copy: remove compiled files whose .ts no longer exists.
 */
function removeOrphans(dir = TESTS): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      removeOrphans(file);
      continue;
    }
    const source = /^(.*)\.js(\.map)?$/.exec(path.relative(TESTS, file))?.[1];
    if (source !== undefined && !fs.existsSync(path.join(SOURCES, `${source}.ts`))) fs.rmSync(file);
  }
}

async function main(): Promise<void> {
  removeOrphans();
  // Every mocha process adds its run notes here (notes.ts): each is printed once, after every run.
  const notes = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'skyrelay-run-')), 'notes.txt');
  process.env['SKYRELAY_RUN_NOTES'] = notes;
  let status = 0;
  for (const run of planRuns(process.argv.slice(2))) {
    if (run.specs.length === 0) continue;
    // A failed first run does not skip the second: both results are worth seeing.
    status ||= await runMocha([...run.specs, ...run.options]);
  }
  const lines = fs.existsSync(notes)
    ? new Set(
        fs
          .readFileSync(notes, 'utf8')
          .split('\n')
          .filter((l) => l !== ''),
      )
    : [];
  if ([...lines].length > 0) process.stdout.write(`\n${[...lines].map((l) => `  ${l}`).join('\n')}\n`);
  fs.rmSync(path.dirname(notes), { recursive: true, force: true });
  process.exitCode = status;
  // Whatever still holds a pipe must not keep this process waiting.
  setImmediate(() => process.exit(status));
}

/** One mocha run; resolves to its exit status, made non-zero by anything but the reporter on stdout. */
function runMocha(args: string[]): Promise<number> {
  const child = spawn(process.execPath, [MOCHA, ...args], {
    stdio: ['ignore', 'pipe', 'inherit', 'pipe'],
    // Run from inside another run's worker (the test-runner tests), the id would tell notes.ts it is a worker too.
    env: { ...process.env, SKYRELAY_REPORTER_FD: '3', MOCHA_WORKER_ID: undefined },
  });
  const { stdout } = child;
  const reporter = child.stdio[3];
  if (!stdout || !(reporter instanceof Readable)) throw new Error('run-tests: mocha started without its pipes');
  reporter.pipe(process.stdout, { end: false });
  const stray: Buffer[] = [];
  let strayBytes = 0;
  stdout.on('data', (chunk: Buffer) => {
    if (strayBytes < SHOWN_BYTES) stray.push(chunk);
    strayBytes += chunk.length;
  });
  const closed = Promise.all([once(stdout, 'end'), once(reporter, 'end')]);
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);

  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      void Promise.race([closed.then(() => true), delay(CLOSE_GRACE_MS).then(() => false)]).then((allClosed) => {
        process.off('SIGINT', forward);
        process.off('SIGTERM', forward);
        let status = code ?? (signal ? 1 : 0);
        if (!allClosed) {
          process.stderr.write(
            `\nrun-tests: stdout still open ${CLOSE_GRACE_MS} ms after mocha exited: a process a test started ` +
              'outlived the run with the test run’s stdout\n',
          );
          stdout.destroy();
          status ||= 1;
        }
        if (strayBytes > 0) {
          const shown = Buffer.concat(stray).subarray(0, SHOWN_BYTES).toString('utf8');
          process.stderr.write(
            `\nrun-tests: ${strayBytes} bytes reached stdout from something other than the mocha reporter ` +
              '(a test, a daemon, a library or a child process); route them to a file, a buffer or notes.ts. ' +
              `They began:\n${shown}\n`,
          );
          status ||= 1;
        }
        resolve(status);
      });
    });
  });
}

const once = (stream: Readable, event: string): Promise<void> =>
  new Promise((resolve) => stream.once(event, () => resolve()));
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

void main();
