import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { openPostgresStore } from '../../support/store';
import { openSqliteFile } from '../../support/sqlite';
import type { Store } from '../../../src/store/store';
import { sqliteHandleOf } from '../../../src/store';
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

/** A statement that names its rows by a list of ids it is given: `WHERE id IN (<the list>)`, `WHERE d.id IN (...)`. */
const BY_IDS = /\bWHERE (?:(\w+)\.)?id IN \((?:SELECT value FROM json_each\(\?\)|\?)/;

/** Whose rows the ids name: the qualifier (`d.id`), or the table the statement updates or reads first. */
function namedRows(sql: string): string | undefined {
  const by = BY_IDS.exec(sql);
  if (by === null) return undefined;
  return by[1] ?? /\b(?:UPDATE|FROM)\s+(\w+)/.exec(sql)?.[1];
}

/**
 * The plan's lines that read `rows` other than by key: a search through another index, or a scan. A row found by
 * key is its table's own index (text ids) or the rowid.
 */
function readsNotByKey(plan: readonly string[], rows: string): string[] {
  const about = new RegExp(`^(SEARCH|SCAN) ${rows}\\b`);
  const byKey = /USING (COVERING )?INDEX sqlite_autoindex_\w+_1 \(id=\?\)|USING INTEGER PRIMARY KEY/;
  return plan.filter((line) => about.test(line) && !byKey.test(line));
}

/**
 * Watches what the store's connection prepares: a statement that names its rows by ids must find them by id, on
 * every line of its plan that reads those rows. SQLite keeps no statistics here, so it takes any `state = ?` for a
 * narrow index and may read every row in that state of a long history instead of the few ids (on the event loop,
 * inside a write). The plan does not depend on the rows, nor on the length of the list (one parameter).
 */
function watchPlans(store: Store, found: string[]): Store {
  const db = sqliteHandleOf(store);
  if (db === undefined) return store;
  const prepare = db.prepare.bind(db);
  db.prepare = (sql: string) => {
    const rows = namedRows(sql);
    if (rows !== undefined) {
      const marks = (sql.match(/\?/g) ?? []).length;
      const plan = (
        prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array<null>(marks).fill(null)) as { detail: string }[]
      ).map((r) => r.detail);
      if (readsNotByKey(plan, rows).length > 0) {
        found.push(`${sql.replace(/\s+/g, ' ')}\n    plan: ${plan.join(' | ')}`);
      }
    }
    return prepare(sql);
  };
  return store;
}

const sqlite: StoreFactory = {
  name: 'SQLite',
  // Every build has it: runs wherever the suite does.
  describe: (title, fn) => describe(title, fn),
  create() {
    const open = openSqliteStore;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skyrelay-contract-'));
    const file = path.join(dir, 'skyrelay.db');
    const slowPlans: string[] = [];
    return Promise.resolve(
      harness(
        async () => watchPlans(await open(file), slowPlans),
        async (sql, params = []) => {
          const db = openSqliteFile(file, { timeout: 5_000 });
          try {
            db.pragma('foreign_keys = ON');
            db.prepare(sql).run(...params);
          } finally {
            db.close();
          }
        },
        async () => {
          await fs.promises.rm(dir, { recursive: true, force: true });
          if (slowPlans.length > 0) {
            throw new Error(`statements that name rows by id but do not find them by id:\n${slowPlans.join('\n')}`);
          }
        },
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
