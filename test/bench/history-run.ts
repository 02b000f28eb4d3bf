import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import {
  formatHistory,
  formatStall,
  historyPages,
  measureHistoryRound,
  measureStallRound,
  type BuildRound,
  type HistoryBuild,
  type HistoryResult,
  type HistorySettings,
  type LoadStats,
} from './history';
import type { BenchPostgres } from './postgres';
import { seedPostgresStore, seedStore, type SeedSummary } from './seed';

/**
 * BENCH_HISTORY: unset, the history phase (./history.ts) runs on SQLite after the throughput rounds; `1` also on
 * PostgreSQL (where the run has it); `only` on both and nothing else; `0` leaves it out. BENCH_STALL_SECONDS=0
 * leaves the light-load stall measurement out; BENCH_HISTORY_SQLITE=0 measures PostgreSQL alone.
 */
export interface HistoryRunSettings {
  mode: 'off' | 'on' | 'only';
  events: number;
  postgres: boolean;
  sqlite: boolean;
  settings: Omit<HistorySettings, 'sinkUrl' | 'log'>;
}

export function readHistorySettings(rounds: number, prefix: string, workDir: string): HistoryRunSettings {
  const int = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
  const flag = process.env['BENCH_HISTORY'];
  return {
    mode: flag === 'only' ? 'only' : flag === '0' ? 'off' : 'on',
    events: int('BENCH_HISTORY_EVENTS', int('BENCH_SEED_EVENTS', 1_000_000) || 1_000_000),
    // Seeding a million events into PostgreSQL and measuring them takes a while: asked for, not by default.
    postgres: flag === '1' || flag === 'only',
    sqlite: process.env['BENCH_HISTORY_SQLITE'] !== '0',
    settings: {
      rounds,
      samples: int('BENCH_HISTORY_SAMPLES', 12),
      loadSeconds: int('BENCH_HISTORY_SECONDS', 20),
      rate: int('BENCH_HISTORY_RATE', 100),
      readers: int('BENCH_HISTORY_READERS', 3),
      pageCapMs: int('BENCH_HISTORY_PAGE_CAP_MS', 30_000),
      stallSeconds: int('BENCH_STALL_SECONDS', 40),
      prefix: `H${prefix.slice(1)}`,
      workDir,
    },
  };
}

export interface HistoryRunInputs {
  run: HistoryRunSettings;
  sinkUrl: string;
  baselineEntry: string | undefined;
  postgres: BenchPostgres | undefined;
  /**
   * A SQLite seed the run made already (for its seeded-store phase), with the baseline's copy made before any daemon
   * opened it (copyForBaseline); else undefined: this one seeds its own.
   */
  seeded: SqliteSeed | undefined;
  log: (line: string) => void;
}

/** Runs the history and stall phases; resolves the tables to print. */
export async function runHistoryPhases(i: HistoryRunInputs): Promise<string> {
  const s: HistorySettings = { ...i.run.settings, sinkUrl: i.sinkUrl, log: i.log };
  const out: string[] = [];
  const builds = (target: (label: string) => Partial<HistoryBuild>): HistoryBuild[] => [
    { label: 'this build', ...target('this build') },
    ...(i.baselineEntry === undefined
      ? []
      : [{ label: 'baseline', entry: i.baselineEntry, ...target('baseline') } as HistoryBuild]),
  ];

  if (i.run.sqlite) out.push(await measureSqlite(i, s, builds));

  if (i.postgres !== undefined && i.run.postgres) {
    const database = await i.postgres.createDatabase();
    const started = Date.now();
    const summary = await seedPostgresStore(database.url, i.run.events, (n) =>
      i.log(`seeding PostgreSQL: ${n} events`),
    );
    const seconds = (Date.now() - started) / 1000;
    i.log(`seeded PostgreSQL with ${summary.events} events in ${seconds.toFixed(0)} s`);
    const databases = new Map<string, string>([['this build', database.url]]);
    const drops = [database.drop];
    try {
      if (i.baselineEntry !== undefined) {
        const copy = await copyDatabase(database.url, 'baseline');
        databases.set('baseline', copy.url);
        drops.push(copy.drop);
      }
      out.push(
        formatHistory(
          await measureStore(
            'postgres',
            builds((l) => ({ databaseUrl: databases.get(l) as string })),
            { summary, seconds, path: '' },
            s,
          ),
        ),
      );
    } finally {
      for (const drop of drops) await drop().catch(() => undefined);
    }
  }

  if (s.stallSeconds > 0) {
    const rounds = new Map<string, LoadStats[]>();
    for (let round = 1; round <= s.rounds; round++) {
      for (const build of alternate(
        builds(() => ({})),
        round,
      )) {
        const file = path.join(s.workDir, `stall-${round}-${build.label.replace(/\s/g, '-')}.db`);
        try {
          const stats = await measureStallRound(build, round, s, file);
          rounds.set(build.label, [...(rounds.get(build.label) ?? []), stats]);
        } finally {
          removeSqlite(file);
        }
      }
    }
    out.push(formatStall({ rounds }, s.rate, s.stallSeconds));
  }
  return out.join('\n\n');
}

async function measureStore(
  store: 'sqlite' | 'postgres',
  builds: HistoryBuild[],
  seed: { summary: SeedSummary; seconds: number; path: string },
  s: HistorySettings,
): Promise<HistoryResult> {
  const pages = historyPages(seed.summary);
  const rounds = new Map<string, BuildRound[]>();
  const slow = new Map(builds.map((b) => [b.label, new Map<string, number[]>()]));
  for (let round = 1; round <= s.rounds; round++) {
    for (const build of alternate(builds, round)) {
      const result = await measureHistoryRound(build, round, pages, s, store, slow.get(build.label) ?? new Map());
      rounds.set(build.label, [...(rounds.get(build.label) ?? []), result]);
    }
  }
  // Rows in the order of the builds, this build first.
  const ordered = new Map(builds.map((b) => [b.label, rounds.get(b.label) ?? []]));
  return {
    store,
    seed: seed.summary,
    seedSeconds: seed.seconds,
    pages,
    rounds: ordered,
    pageCapMs: s.pageCapMs,
    rate: s.rate,
  };
}

/** Which build goes first alternates with the round, so a trend on the machine falls on both. */
function alternate<T>(builds: T[], round: number): T[] {
  return round % 2 === 1 ? builds : [...builds].reverse();
}

export interface SqliteSeed {
  path: string;
  /** The baseline build's copy, made before anything migrated the seed further. */
  baselinePath?: string;
  summary: SeedSummary;
  seconds: number;
}

/** A copy of the seed for the baseline build, once; before any daemon opens the seed. */
export function copyForBaseline(seed: SqliteSeed): void {
  if (seed.baselinePath !== undefined) return;
  seed.baselinePath = `${seed.path.replace(/\.db$/, '')}-baseline.db`;
  fs.copyFileSync(seed.path, seed.baselinePath);
}

export function seedSqlite(file: string, events: number, log: (line: string) => void): SqliteSeed {
  const started = Date.now();
  const summary = seedStore(file, events, (n) => log(`seeding SQLite: ${n} events`));
  const seconds = (Date.now() - started) / 1000;
  const mib = fs.statSync(file).size / 2 ** 20;
  log(`seeded SQLite with ${summary.events} events in ${seconds.toFixed(0)} s (${mib.toFixed(0)} MiB)`);
  return { path: file, summary, seconds };
}

/** A copy of a database as PostgreSQL makes one from a template: the files copied, no rows inserted. */
async function copyDatabase(url: string, suffix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const source = new URL(url);
  const name = `${source.pathname.slice(1)}_${suffix}`;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const run = async (sql: string): Promise<void> => {
    const client = new Client({ connectionString: admin.toString() });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  await run(`CREATE DATABASE "${name}" TEMPLATE "${source.pathname.slice(1)}"`);
  const copy = new URL(url);
  copy.pathname = `/${name}`;
  return { url: copy.toString(), drop: () => run(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

function removeSqlite(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${file}${suffix}`, { force: true });
}

/** SQLite: each build on its own copy of the seed, so neither sees what the other's migrations built. */
async function measureSqlite(
  i: HistoryRunInputs,
  s: HistorySettings,
  builds: (target: (label: string) => Partial<HistoryBuild>) => HistoryBuild[],
): Promise<string> {
  const seeded = i.seeded ?? seedSqlite(path.join(s.workDir, 'history.db'), i.run.events, i.log);
  if (i.baselineEntry !== undefined) copyForBaseline(seeded);
  const copies = new Map<string, string>([['this build', seeded.path]]);
  if (seeded.baselinePath !== undefined) copies.set('baseline', seeded.baselinePath);
  try {
    return formatHistory(
      await measureStore(
        'sqlite',
        builds((l) => ({ dbPath: copies.get(l) as string })),
        seeded,
        s,
      ),
    );
  } finally {
    for (const [label, file] of copies) if (label !== 'this build' || i.seeded === undefined) removeSqlite(file);
  }
}
