import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { StoreNotFoundError } from '../errors';
import { COPIED_TABLES, type CopiedRow, type CopiedTable, type MigrationSource, type RowPage } from '../migration';
import { openDatabase } from './database';

/** How one table is paged: the key columns in order, and how the key is written into a cursor and read back. */
interface Paging {
  /** SQL for the key, one value or a row value. */
  key: string;
  /** The same columns for ORDER BY, which takes no row value. */
  order: string;
  select: (row: CopiedRow & { rowkey?: number }) => string;
  params: (cursor: string) => unknown[];
}

/** Tables with a rowid: it only grows while rows are added, and attempts' id is it. */
const BY_ROWID: Paging = {
  key: 'rowid',
  order: 'rowid',
  select: (row) => String(row.rowkey),
  params: (cursor) => [Number(cursor)],
};

/** callback_keys has no rowid (WITHOUT ROWID): paged by its primary key, the cursor a JSON list of it. */
const KEY_COLUMNS = ['partner', 'control_number', 'pay_type', 'deal_time'];
const BY_CALLBACK_KEY: Paging = {
  key: `(${KEY_COLUMNS.join(', ')})`,
  order: KEY_COLUMNS.join(', '),
  select: (row) => JSON.stringify(KEY_COLUMNS.map((c) => row[c])),
  params: (cursor) => JSON.parse(cursor) as unknown[],
};

/** payouts has no rowid either: paged by (partner, control_number). */
const PAYOUT_KEY_COLUMNS = ['partner', 'control_number'];
const BY_PAYOUT_KEY: Paging = {
  key: `(${PAYOUT_KEY_COLUMNS.join(', ')})`,
  order: PAYOUT_KEY_COLUMNS.join(', '),
  select: (row) => JSON.stringify(PAYOUT_KEY_COLUMNS.map((c) => row[c])),
  params: (cursor) => JSON.parse(cursor) as unknown[],
};

/** callback_tally has no rowid either: paged by (quarter_ms, partner, outcome). */
const TALLY_KEY_COLUMNS = ['quarter_ms', 'partner', 'outcome'];
const BY_TALLY_KEY: Paging = {
  key: `(${TALLY_KEY_COLUMNS.join(', ')})`,
  order: TALLY_KEY_COLUMNS.join(', '),
  select: (row) => JSON.stringify(TALLY_KEY_COLUMNS.map((c) => row[c])),
  params: (cursor) => JSON.parse(cursor) as unknown[],
};

/** Tables without a rowid, by their primary key; the rest by rowid. */
const KEYED: Partial<Record<CopiedTable, { paging: Paging; columns: string[] }>> = {
  callback_keys: { paging: BY_CALLBACK_KEY, columns: KEY_COLUMNS },
  payouts: { paging: BY_PAYOUT_KEY, columns: PAYOUT_KEY_COLUMNS },
  callback_tally: { paging: BY_TALLY_KEY, columns: TALLY_KEY_COLUMNS },
};

interface TableStatements {
  paging: Paging;
  first: Database.Statement<[number], CopiedRow & { rowkey?: number }>;
  after: Database.Statement<unknown[], CopiedRow & { rowkey?: number }>;
  countAll: Database.Statement<[], { n: number }>;
  countAfter: Database.Statement<unknown[], { n: number }>;
}

function prepareTable(db: Database.Database, table: CopiedTable): TableStatements {
  const keyed = KEYED[table];
  const paging = keyed?.paging ?? BY_ROWID;
  const columns = keyed ? '*' : 'rowid AS rowkey, *';
  const marks = keyed ? `(${keyed.columns.map(() => '?').join(', ')})` : '?';
  return {
    paging,
    first: db.prepare(`SELECT ${columns} FROM ${table} ORDER BY ${paging.order} LIMIT ?`),
    after: db.prepare(
      `SELECT ${columns} FROM ${table} WHERE ${paging.key} > ${marks} ORDER BY ${paging.order} LIMIT ?`,
    ),
    countAll: db.prepare(`SELECT count(*) AS n FROM ${table}`),
    countAfter: db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${paging.key} > ${marks}`),
  };
}

/**
 * The SQLite side of `skyrelay migrate-store`. Copy from a file no daemon writes to any more: a row changed
 * behind the cursor would not be copied again.
 */
export function openSqliteMigrationSource(path: string): MigrationSource {
  if (!fs.existsSync(path)) throw new StoreNotFoundError(`no database at ${path}`);
  // Brought to the current schema as the daemon would, so the columns are the ones the target expects.
  const db = openDatabase({ path });
  const tables = new Map(COPIED_TABLES.map((table) => [table, prepareTable(db, table)]));
  const statementsOf = (table: CopiedTable): TableStatements => {
    const s = tables.get(table);
    if (!s) throw new Error(`not a copied table: ${String(table)}`);
    return s;
  };
  return {
    countRows(table, afterKey) {
      const s = statementsOf(table);
      const found = afterKey === undefined ? s.countAll.get() : s.countAfter.get(...s.paging.params(afterKey));
      return Promise.resolve(found?.n ?? 0);
    },
    exportRows(table, afterKey, limit): Promise<RowPage> {
      const s = statementsOf(table);
      const found = afterKey === undefined ? s.first.all(limit) : s.after.all(...s.paging.params(afterKey), limit);
      const last = found.at(-1);
      const rows = found.map(({ rowkey: _key, ...row }) => row);
      return Promise.resolve({ rows, lastKey: last === undefined ? undefined : s.paging.select(last) });
    },
    close() {
      db.close();
      return Promise.resolve();
    },
  };
}
