import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { openPostgresStore } from '../../support/store';
import { openSqliteFile } from '../../support/sqlite';
import type { Store } from '../../../src/store/store';
import { createTestDatabase, describePostgres } from '../../support/postgres';
import { openSqliteStore } from './sqlite';

/**
 * One database per suite, opened as many times as a case needs: two Store
 * instances on one database stand for two processes (or hosts).
 */
export interface StoreHarness {
  /** Another Store instance on this harness's database; closed by dispose(). */
  open(): Promise<Store>;
  /**
   * One statement straight on the tables, beside every Store (`?` placeholders): damage that only a hand edit, a
   * bad migration or a broken disk makes, for the rules that must name it. Foreign keys cascade as in the store.
   */
  tamper(sql: string, params?: readonly unknown[]): Promise<void>;
  dispose(): Promise<void>;
}

export interface StoreFactory {
  name: string;
  /** `describe`, or a variant that leaves the suite out (saying why) when this store cannot run here. */
  describe(title: string, fn: (this: Mocha.Suite) => void): void;
  create(): Promise<StoreHarness>;
}

function harness(
  openOne: () => Promise<Store>,
  tamper: StoreHarness['tamper'],
  cleanup: () => Promise<void>,
): StoreHarness {
  const opened: Store[] = [];
  return {
    async open() {
      const store = await openOne();
      opened.push(store);
      return store;
    },
    tamper,
    async dispose() {
      await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
      await cleanup();
    },
  };
}

const sqlite: StoreFactory = {
  name: 'SQLite',
  // Every build has it: runs wherever the suite does.
  describe: (title, fn) => describe(title, fn),
  create() {
    const open = openSqliteStore;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skyrelay-contract-'));
    const file = path.join(dir, 'skyrelay.db');
    return Promise.resolve(
      harness(
        () => open(file),
        async (sql, params = []) => {
          const db = openSqliteFile(file, { timeout: 5_000 });
          try {
            db.pragma('foreign_keys = ON');
            db.prepare(sql).run(...params);
          } finally {
            db.close();
          }
        },
        () => fs.promises.rm(dir, { recursive: true, force: true }),
      ),
    );
  },
};

const postgres: StoreFactory = {
  name: 'PostgreSQL',
  describe: (title, fn) => describePostgres(title, fn),
  async create() {
    const db = await createTestDatabase();
    return harness(
      () => openPostgresStore({ url: db.url, poolSize: 4 }),
      async (sql, params = []) => {
        const client = new Client({ connectionString: db.url });
        await client.connect();
        try {
          let n = 0;
          await client.query(
            sql.replace(/\?/g, () => `$${++n}`),
            [...params],
          );
        } finally {
          await client.end();
        }
      },
      () => db.drop(),
    );
  },
};

export const STORE_FACTORIES: readonly StoreFactory[] = [sqlite, postgres];
