import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { StoreNotFoundError, type SourceWriter } from '../errors';
import { COPIED_TABLES, type CopiedRow, type CopiedTable, type MigrationSource, type RowPage } from '../migration';
import { openDatabase } from './database';

/** How one table is paged: the key in SQL, and how the key of a row is written into a cursor and read back. */
interface Paging {
  /** SQL for the key, one value or a row value. */
  key: string;
  /** The same columns for ORDER BY, which takes no row value. */
  order: string;
  /** `?` or `(?, ?)`: a cursor's values in the key's shape. */
  marks: string;
  select: (row: CopiedRow & { rowkey?: number }) => string;
  params: (cursor: string) => unknown[];
}

/** Tables with a rowid: it only grows while rows are added (attempts' id is it); the cursor is the number. */
const BY_ROWID: Paging = {
  key: 'rowid',
  order: 'rowid',
  marks: '?',
  select: (row) => String(row.rowkey),
  params: (cursor) => [Number(cursor)],
};

/** A WITHOUT ROWID table is paged by its primary key, the cursor a JSON list of its values. */
function byPrimaryKey(columns: readonly string[]): Paging {
  return {
    key: `(${columns.join(', ')})`,
    order: columns.join(', '),
    marks: `(${columns.map(() => '?').join(', ')})`,
    select: (row) => JSON.stringify(columns.map((c) => row[c])),
    params: (cursor) => JSON.parse(cursor) as unknown[],
  };
}

interface TableStatements {
  paging: Paging;
  first: Database.Statement<[number], CopiedRow & { rowkey?: number }>;
  after: Database.Statement<unknown[], CopiedRow & { rowkey?: number }>;
  countAll: Database.Statement<[], { n: number }>;
  countAfter: Database.Statement<unknown[], { n: number }>;
}

interface TableInfo {
  name: string;
  /** 1 for a WITHOUT ROWID table. */
  wr: number;
}

interface ColumnInfo {
  name: string;
  /** The column's place in the primary key from 1, 0 when it is not in it. */
  pk: number;
}

/** The tables of the main schema, SQLite's own (sqlite_schema, sqlite_stat1 after ANALYZE) left out. */
function listTables(db: Database.Database): TableInfo[] {
  return (db.pragma('table_list') as (TableInfo & { schema: string; type: string })[]).filter(
    (t) => t.schema === 'main' && t.type === 'table' && !t.name.startsWith('sqlite_'),
  );
}

function columnsOf(db: Database.Database, table: string): ColumnInfo[] {
  return db.pragma(`table_info(${JSON.stringify(table)})`) as ColumnInfo[];
}

function prepareTable(db: Database.Database, table: CopiedTable, withoutRowid: boolean): TableStatements {
  const primaryKey = columnsOf(db, table)
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
  const paging = withoutRowid ? byPrimaryKey(primaryKey) : BY_ROWID;
  const columns = withoutRowid ? '*' : 'rowid AS rowkey, *';
  return {
    paging,
    first: db.prepare(`SELECT ${columns} FROM ${table} ORDER BY ${paging.order} LIMIT ?`),
    after: db.prepare(
      `SELECT ${columns} FROM ${table} WHERE ${paging.key} > ${paging.marks} ORDER BY ${paging.order} LIMIT ?`,
    ),
    countAll: db.prepare(`SELECT count(*) AS n FROM ${table}`),
    countAfter: db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${paging.key} > ${paging.marks}`),
  };
}

/**
 * The SQLite side of `skyrelay migrate-store`. Copy from a file no daemon writes to any more: a row changed
 * behind the cursor would not be copied again (findWriters tells the copy of a daemon still publishing there).
 */
export function openSqliteMigrationSource(path: string): MigrationSource {
  if (!fs.existsSync(path)) throw new StoreNotFoundError(`no database at ${path}`);
  // Brought to the current schema as the daemon would, so the columns are the ones the target expects.
  const db = openDatabase({ path });
  const withoutRowid = new Set(
    listTables(db)
      .filter((t) => t.wr === 1)
      .map((t) => t.name),
  );
  const tables = new Map(COPIED_TABLES.map((table) => [table, prepareTable(db, table, withoutRowid.has(table))]));
  const statementsOf = (table: CopiedTable): TableStatements => {
    const s = tables.get(table);
    if (!s) throw new Error(`not a copied table: ${String(table)}`);
    return s;
  };
  const writers = db.prepare<[number], { instance: string; pid: number; updated_ms: number }>(
    'SELECT instance, pid, updated_ms FROM metric_processes WHERE updated_ms >= ? ORDER BY updated_ms DESC',
  );
  return {
    describeTables() {
      const found = new Map<string, string[]>();
      for (const t of listTables(db))
        found.set(
          t.name,
          columnsOf(db, t.name).map((c) => c.name),
        );
      return Promise.resolve(found);
    },
    findWriters(sinceMs) {
      const found: SourceWriter[] = writers
        .all(sinceMs)
        .map((r) => ({ instance: r.instance, pid: r.pid, lastSeenMs: r.updated_ms }));
      return Promise.resolve(found);
    },
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
