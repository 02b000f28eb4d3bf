import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dayOf, dayWindow } from '../../src/ledger/balance';
import type { Ledger } from '../../src/ledger/types';
import { openPostgresStore } from '../support/store';
import { drivePaced, type PacedSample } from './paced';
import { seedLedgerPostgres, seedLedgerSqlite, type LedgerSeed } from './ledger-seed';
import { startBenchPostgres, wantsPostgres } from './postgres';
import { forkHelper, spawnBenchDaemon, type BenchServer } from './processes';
import { describeMachine } from './report';
import { median, percentile } from './stats';

/**
 * `npm run bench:ledger`: one day's ledger (about 50,000 events) out of 1,000,000 stored, through the running
 * daemon's GET /admin/ledger, while callbacks keep coming at a steady rate. Measured: how long the ledger takes,
 * and callbacks' ack latency (p50, p99) while it runs against the same load with no ledger running, in the same
 * run on the same machine (ratios, not absolute targets, decide). Settings: BENCH_LEDGER_EVENTS, BENCH_LEDGER_DAYS,
 * BENCH_LEDGER_RATE (callbacks/s), BENCH_LEDGER_ROUNDS, BENCH_POSTGRES.
 */

const TOKEN = 'ledger-bench-admin-token-0123456';
const int = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const now = (): number => performance.timeOrigin + performance.now();

/** Callbacks at a fixed total rate for `seconds`, sent evenly (./paced.ts); every ack's latency and when it completed. */
async function steadyLoad(url: string, rate: number, seconds: number): Promise<PacedSample[]> {
  const load = await drivePaced(url, { connections: 8, seconds, prefix: 'BLDG', rate });
  return load.samples;
}

interface Round {
  ledgerMs: number[];
  baseline: number[];
  during: number[];
  balanced: boolean;
  events: number;
}

async function fetchLedger(
  base: string,
  day: string,
): Promise<{ ms: number; ledger: Ledger; from: number; to: number }> {
  const from = now();
  const res = await fetch(`${base}/admin/ledger?day=${day}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const ledger = (await res.json()) as Ledger;
  const to = now();
  if (res.status !== 200) throw new Error(`GET /admin/ledger answered ${res.status}: ${JSON.stringify(ledger)}`);
  return { ms: to - from, ledger, from, to };
}

/** One round: the load alone, then the same load with the ledger computed three times in its middle. */
async function measure(server: BenchServer, day: string, rate: number): Promise<Round> {
  const base = server.callbackUrl.replace(/\/callbacks\/skypay$/, '');
  const baseline = (await steadyLoad(server.callbackUrl, rate, 8)).filter((a) => a.at > 0).map((a) => a.ms);
  const windows: { from: number; to: number }[] = [];
  const ledgerMs: number[] = [];
  let last: Ledger | undefined;
  const loading = steadyLoad(server.callbackUrl, rate, 12);
  await new Promise((r) => setTimeout(r, 2_000));
  for (let i = 0; i < 3; i++) {
    const run = await fetchLedger(base, day);
    ledgerMs.push(run.ms);
    windows.push(run);
    last = run.ledger;
  }
  const acks = await loading;
  const during = acks.filter((a) => windows.some((w) => a.at >= w.from && a.at <= w.to)).map((a) => a.ms);
  return {
    ledgerMs,
    baseline,
    during,
    balanced: last?.balanced ?? false,
    events: (last?.events.callback ?? 0) + (last?.events.skyrelay ?? 0),
  };
}

function describe(label: string, rounds: Round[]): string {
  const all = (pick: (r: Round) => number[]) => rounds.flatMap(pick);
  const p = (xs: number[], q: number) => percentile(xs, q).toFixed(1);
  const p99Rise = median(rounds.map((r) => percentile(r.during, 99) - percentile(r.baseline, 99)));
  return [
    `| ${label} | ${median(all((r) => r.ledgerMs)).toFixed(0)} ms (max ${Math.max(...all((r) => r.ledgerMs)).toFixed(0)}) |`,
    `${rounds[0]?.events ?? 0} | ${rounds.every((r) => r.balanced) ? 'yes' : 'NO'} |`,
    `${p(
      all((r) => r.baseline),
      50,
    )} / ${p(
      all((r) => r.baseline),
      99,
    )} ms |`,
    `${p(
      all((r) => r.during),
      50,
    )} / ${p(
      all((r) => r.during),
      99,
    )} ms (${all((r) => r.during).length} acks) |`,
    `${p99Rise.toFixed(1)} ms |`,
  ].join(' ');
}

async function runStore(
  label: string,
  spawn: () => Promise<BenchServer>,
  day: string,
  rate: number,
  roundsWanted: number,
): Promise<string> {
  const server = await spawn();
  try {
    // A daemon just started on a large store answers its first seconds slowly (cold pages, the first checkpoint):
    // not part of either side of the comparison.
    await steadyLoad(server.callbackUrl, rate, 5);
    const rounds: Round[] = [];
    for (let i = 0; i < roundsWanted; i++) {
      const round = await measure(server, day, rate);
      const p99 = (xs: number[]) => percentile(xs, 99).toFixed(1);
      log(
        `${label} round ${i + 1}: ledger ${round.ledgerMs.map((m) => m.toFixed(0)).join(', ')} ms; ` +
          `ack p99 alone ${p99(round.baseline)} ms, while it runs ${p99(round.during)} ms`,
      );
      rounds.push(round);
    }
    return describe(label, rounds);
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const count = int('BENCH_LEDGER_EVENTS', 1_000_000);
  const days = int('BENCH_LEDGER_DAYS', 20);
  const rate = int('BENCH_LEDGER_RATE', 200);
  const roundsWanted = int('BENCH_LEDGER_ROUNDS', 3);
  const workDir = fs.mkdtempSync(path.join(process.env['BENCH_DIR'] ?? os.tmpdir(), 'skyrelay-ledger-bench-'));
  // The seeded days end at today's midnight in +08:00; the measured day is the middle one.
  const endMs = dayWindow(dayOf(Date.now(), 480), 480)?.startMs ?? 0;
  const seed: LedgerSeed = { count, days, endMs };
  const day = dayOf(endMs - Math.floor(days / 2) * 86_400_000, 480);
  const sink = await forkHelper('sink', 'sink.js');
  const options = (label: string, dbPath: string, databaseUrl?: string) => ({
    label,
    dbPath,
    ...(databaseUrl ? { databaseUrl } : {}),
    sinkUrl: `http://127.0.0.1:${sink.port}`,
    synchronous: 'FULL' as const,
    logFile: path.join(workDir, `${label}.log`),
    maxInFlight: undefined,
    ingestOnly: false,
    config: { admin: { token: TOKEN } },
  });
  const rows: string[] = [];
  try {
    const dbPath = path.join(workDir, 'ledger.db');
    let started = Date.now();
    seedLedgerSqlite(dbPath, seed);
    log(`SQLite: seeded ${count} events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    rows.push(await runStore('SQLite', () => spawnBenchDaemon(options('sqlite', dbPath)), day, rate, roundsWanted));
    if (wantsPostgres().on) {
      const postgres = startBenchPostgres();
      try {
        const db = await postgres.createDatabase();
        await (await openPostgresStore({ url: db.url, poolSize: 1 })).close();
        started = Date.now();
        await seedLedgerPostgres(db.url, seed);
        log(`PostgreSQL: seeded ${count} events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        const spawnPg = () => spawnBenchDaemon(options('postgres', dbPath, db.url));
        rows.push(await runStore('PostgreSQL', spawnPg, day, rate, roundsWanted));
      } finally {
        postgres.stop();
      }
    }
  } finally {
    await sink.server.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  process.stdout.write(
    `\nMeasured on ${describeMachine()}; ${count} events over ${days} days stored, the ledger of ${day}, ` +
      `callbacks at ${rate}/s throughout, ${roundsWanted} rounds of 3 ledgers.\n\n` +
      '| store | one day’s ledger (median) | events that day | balanced | ack p50 / p99, load alone | ' +
      'ack p50 / p99 while the ledger runs | p99 rise (median of rounds) |\n' +
      '| --- | ---: | ---: | --- | ---: | ---: | ---: |\n' +
      `${rows.join('\n')}\n`,
  );
}

main().catch((err: unknown) => {
  log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
