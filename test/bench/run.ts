import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectSink, measurePhase, type PhaseOptions, type PhaseResult, type Sink } from './phases';
import { startBenchPostgres, wantsPostgres, type BenchPostgres } from './postgres';
import { combineServers, forkHelper, spawnBenchDaemon, type BenchServer } from './processes';
import { describeMachine, formatPhase, formatTable, type Rounds } from './report';
import {
  copyForBaseline,
  readHistorySettings,
  runHistoryPhases,
  seedSqlite,
  type HistoryRunSettings,
  type SqliteSeed,
} from './history-run';

/**
 * `npm run bench`: skyrelay (built, in its own process, one webhook
 * destination on a local sink) against bare Koa and a minimal durable
 * server (durable-koa.ts), alternating phases over
 * several rounds so that noise from the shared machine falls on both sides.
 * Settings come from BENCH_* environment variables; see readSettings().
 */
interface Settings {
  rounds: number;
  phase: PhaseOptions;
  seedEvents: number;
  normal: boolean;
  maxInFlight: number | undefined;
  ingestOnly: boolean;
  /** BENCH_BASELINE_ENTRY: another build's dist/main.js, measured in every round too (before vs after). */
  baselineEntry: string | undefined;
  /** BENCH_POSTGRES: skyrelay on PostgreSQL too, one instance and two on one database. */
  postgres: boolean;
  workDir: string;
  /** BENCH_HISTORY and its settings (./history-run.ts). */
  history: HistoryRunSettings;
}

function readSettings(): Settings {
  const int = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
  const prefix = `B${Math.random().toString(36).slice(2, 6).toUpperCase().padEnd(4, '0')}`;
  const workDir = fs.mkdtempSync(path.join(process.env['BENCH_DIR'] ?? os.tmpdir(), 'skyrelay-bench-'));
  return {
    rounds: int('BENCH_ROUNDS', 3),
    phase: {
      connections: int('BENCH_CONNECTIONS', 32),
      seconds: int('BENCH_SECONDS', 10),
      warmupSeconds: int('BENCH_WARMUP_SECONDS', 2),
      prefix,
      drainMs: int('BENCH_DRAIN_MS', 120_000),
      ...(process.env['BENCH_RATE'] ? { rate: int('BENCH_RATE', 0) } : {}),
    },
    seedEvents: int('BENCH_SEED_EVENTS', 1_000_000),
    normal: process.env['BENCH_NORMAL'] === '1',
    // As many deliveries in flight as callbacks arrive at once; 'default' keeps the shipped 4.
    maxInFlight: process.env['BENCH_MAX_IN_FLIGHT'] === 'default' ? undefined : int('BENCH_MAX_IN_FLIGHT', 32),
    ingestOnly: process.env['BENCH_INGEST_ONLY'] === '1',
    baselineEntry: process.env['BENCH_BASELINE_ENTRY'],
    postgres: wantsPostgres().on,
    workDir,
    history: readHistorySettings(int('BENCH_ROUNDS', 3), prefix, workDir),
  };
}

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function main(): Promise<void> {
  const s = readSettings();
  log(`machine: ${describeMachine()}`);
  const { phase, ...rest } = s;
  log(`settings: ${JSON.stringify({ ...phase, ...rest })}`);
  const seededPath = path.join(s.workDir, 'seeded.db');
  const throughput = s.history.mode !== 'only';
  let seeded: SqliteSeed | undefined;
  if (s.seedEvents > 0 && throughput) {
    seeded = seedSqlite(seededPath, s.seedEvents, log);
    // The history phase's baseline gets the seed as it was, before this build's daemon migrates it further.
    if (s.history.mode !== 'off' && s.baselineEntry !== undefined) copyForBaseline(seeded);
  }
  let history = '';

  const why = wantsPostgres().why;
  if (why !== undefined) log(why);
  const postgres = s.postgres ? startPostgresForRun() : undefined;
  const sinkProcess = await forkHelper('sink', 'sink.js').catch((err: unknown) => {
    postgres?.stop();
    throw err;
  });
  const sink = connectSink(sinkProcess.child);
  const sinkUrl = `http://127.0.0.1:${sinkProcess.port}`;
  const rounds: Rounds = {
    skyrelay: [],
    bare: [],
    durable: [],
    seeded: [],
    normal: [],
    baseline: [],
    postgres: [],
    postgresPair: [],
  };
  try {
    for (let round = 1; throughput && round <= s.rounds; round++) {
      const fresh = (label: string) => path.join(s.workDir, `round${round}-${label}.db`);
      const daemon = (
        label: string,
        dbPath: string,
        synchronous: 'FULL' | 'NORMAL',
        entry?: string,
        databaseUrl?: string,
      ) =>
        spawnBenchDaemon({
          label,
          dbPath,
          ...(databaseUrl === undefined ? {} : { databaseUrl }),
          sinkUrl,
          synchronous,
          logFile: path.join(s.workDir, `round${round}-${label}.log`),
          maxInFlight: s.maxInFlight,
          ingestOnly: s.ingestOnly,
          ...(entry === undefined ? {} : { entry }),
        });
      const delivering = s.ingestOnly ? undefined : sink;
      rounds.skyrelay.push(await runPhase(round, await daemon('skyrelay', fresh('skyrelay'), 'FULL'), delivering, s));
      rounds.bare.push(await runPhase(round, (await forkHelper('bare-koa', 'bare-koa.js')).server, undefined, s));
      const durable = await forkHelper('durable-koa', 'durable-koa.js', [fresh('durable')]);
      rounds.durable.push(await runPhase(round, durable.server, undefined, s));
      if (s.seedEvents > 0)
        rounds.seeded.push(await runPhase(round, await daemon('skyrelay-seeded', seededPath, 'FULL'), delivering, s));
      if (s.baselineEntry !== undefined) {
        rounds.baseline.push(
          await runPhase(
            round,
            await daemon('baseline-build', fresh('baseline'), 'FULL', s.baselineEntry),
            delivering,
            s,
          ),
        );
      }
      if (s.normal)
        rounds.normal.push(
          await runPhase(round, await daemon('skyrelay-normal', fresh('normal'), 'NORMAL'), delivering, s),
        );
      if (postgres !== undefined) {
        const database = await postgres.createDatabase();
        try {
          const server = await daemon('skyrelay-postgres', fresh('unused'), 'FULL', undefined, database.url);
          rounds.postgres.push(await runPhase(round, server, delivering, s));
        } finally {
          await database.drop();
        }
        const shared = await postgres.createDatabase();
        try {
          // One after the other: the second finds the schema the first migrated (under its advisory lock anyway).
          const first = await daemon('skyrelay-postgres-a', fresh('unused'), 'FULL', undefined, shared.url);
          const second = await daemon('skyrelay-postgres-b', fresh('unused'), 'FULL', undefined, shared.url).catch(
            async (err: unknown) => {
              await first.stop();
              throw err;
            },
          );
          const pair = combineServers('skyrelay-postgres-2', [first, second]);
          rounds.postgresPair.push(await runPhase(round, pair, delivering, s));
        } finally {
          await shared.drop();
        }
      }
      removeStore(fresh('skyrelay'));
      removeStore(fresh('normal'));
      removeStore(fresh('baseline'));
      removeStore(fresh('durable'));
    }
    if (s.history.mode !== 'off') {
      history = await runHistoryPhases({
        run: s.history,
        sinkUrl,
        baselineEntry: s.baselineEntry,
        postgres,
        seeded,
        log,
      });
    }
  } finally {
    await sinkProcess.server.stop();
    postgres?.stop();
    removeStore(seededPath);
    if (seeded?.baselinePath !== undefined) removeStore(seeded.baselinePath);
    // The daemons' logs stay for a look with BENCH_KEEP_LOGS=1; otherwise nothing is left in $TMPDIR.
    if (process.env['BENCH_KEEP_LOGS'] === '1') log(`logs kept in ${s.workDir}`);
    else fs.rmSync(s.workDir, { recursive: true, force: true });
  }
  log(
    `load average after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const setup =
    `${s.phase.connections} connections, ${s.rounds} rounds of ${s.phase.seconds} s per server (after ${s.phase.warmupSeconds} s warm-up), ` +
    (s.ingestOnly
      ? 'no destination (ingest only)'
      : `one webhook destination, maxInFlight ${s.maxInFlight ?? '4 (default)'}`);
  if (throughput) {
    process.stdout.write(`\nMeasured on ${describeMachine()}; ${setup}.\n\n${formatTable(rounds, s.seedEvents)}\n`);
  }
  if (history !== '') process.stdout.write(`\n${history}\n`);
}

/** The run's PostgreSQL server, stopped on the way out even when the run is interrupted. */
function startPostgresForRun(): BenchPostgres {
  const started = Date.now();
  const postgres = startBenchPostgres();
  log(`PostgreSQL started in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      postgres.stop();
      process.exit(130);
    });
  }
  return postgres;
}

async function runPhase(round: number, server: BenchServer, sink: Sink | undefined, s: Settings): Promise<PhaseResult> {
  try {
    const result = await measurePhase(server, sink, s.phase);
    log(formatPhase(round, result));
    return result;
  } finally {
    await server.stop();
  }
}

function removeStore(dbPath: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${dbPath}${suffix}`, { force: true });
}

main().catch((err: unknown) => {
  log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
