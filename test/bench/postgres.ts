import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Client } from 'pg';
import { POSTGRES_SERVER_SCRIPT } from '../support/postgres';

/** The binary postgres-server.sh runs by default; without it the PostgreSQL phases are left out. */
const POSTGRES_BINARY = `${process.env['SKYRELAY_TEST_PG_BIN'] ?? '/usr/lib/postgresql/15/bin'}/postgres`;

/**
 * Whether this run measures PostgreSQL: BENCH_POSTGRES=0 or 1 decides; unset, it follows whether the server's
 * binary is installed. `why` is the one line a run that leaves the phases out prints.
 */
export function wantsPostgres(): { on: boolean; why?: string } {
  const setting = process.env['BENCH_POSTGRES'];
  if (setting === '0') return { on: false, why: 'PostgreSQL phases skipped: BENCH_POSTGRES=0' };
  if (setting === '1' || fs.existsSync(POSTGRES_BINARY)) return { on: true };
  return { on: false, why: `PostgreSQL phases skipped: ${POSTGRES_BINARY} is missing (BENCH_POSTGRES=1 insists)` };
}

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A throwaway PostgreSQL server for the whole run (test/support/postgres-server.sh), a fresh database per phase. */
export interface BenchPostgres {
  createDatabase(): Promise<BenchDatabase>;
  /** Synchronous, so a SIGINT handler can call it before exiting; idempotent. */
  stop(): void;
}

export function startBenchPostgres(): BenchPostgres {
  const exports = execFileSync(POSTGRES_SERVER_SCRIPT, ['start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const value = (name: string): string => {
    const found = new RegExp(`^export ${name}=(.*)$`, 'm').exec(exports)?.[1];
    if (found === undefined) throw new Error(`postgres-server.sh start printed no ${name}`);
    return found;
  };
  const adminUrl = value('SKYRELAY_TEST_DATABASE_URL');
  const dataDir = value('SKYRELAY_TEST_PG_DATA');
  let stopped = false;
  const admin = async (sql: string): Promise<void> => {
    const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  return {
    async createDatabase() {
      const name = `skyrelay_bench_${randomBytes(6).toString('hex')}`;
      await admin(`CREATE DATABASE "${name}"`);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
    },
    stop() {
      if (stopped) return;
      stopped = true;
      execFileSync(POSTGRES_SERVER_SCRIPT, ['stop', dataDir], { stdio: ['ignore', 'ignore', 'inherit'] });
    },
  };
}
