import pg from 'pg';
import { COPIED, COPIED_TABLES, type CopiedTable } from '../../src/store/migration';
import { openSqliteFile } from './sqlite';

/** Each copied table's rows, as lists of its copied columns' values, in one order whichever store they came from. */
export type CopiedRows = Record<CopiedTable, unknown[][]>;

/** Bytes as hex, so both drivers' buffers compare; everything else as the driver gave it. */
function normalize(value: unknown): unknown {
  return Buffer.isBuffer(value) ? `hex:${value.toString('hex')}` : value;
}

function collect(read: (table: CopiedTable, columns: readonly string[]) => Record<string, unknown>[]): CopiedRows {
  const result = {} as CopiedRows;
  for (const table of COPIED_TABLES) {
    const columns = COPIED[table].columns;
    const rows = read(table, columns).map((row) => columns.map((c) => normalize(row[c])));
    // Sorted here rather than by SQL: the two stores' text collations differ.
    const keyed = rows.map((row) => [JSON.stringify(row), row] as const);
    result[table] = keyed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  }
  return result;
}

/**
 * What migrate-store copies, read straight from the tables of the SQLite file or the PostgreSQL database at `url`:
 * the copy is checked table by table, every column of every row, not only through what the Store interface shows.
 */
export async function readCopiedTables(at: string | { url: string }): Promise<CopiedRows> {
  if (typeof at === 'string') {
    const db = openSqliteFile(at, { readonly: true });
    try {
      return collect(
        (table, columns) => db.prepare(`SELECT ${columns.join(', ')} FROM ${table}`).all() as Record<string, unknown>[],
      );
    } finally {
      db.close();
    }
  }
  // bigint columns as numbers, as SQLite gives them (every value skyrelay keeps there is far below 2^53).
  const client = new pg.Client({
    connectionString: at.url,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === pg.types.builtins.INT8
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const found = new Map<CopiedTable, Record<string, unknown>[]>();
    for (const table of COPIED_TABLES) {
      found.set(table, (await client.query(`SELECT ${COPIED[table].columns.join(', ')} FROM ${table}`)).rows);
    }
    return collect((table) => found.get(table) ?? []);
  } finally {
    await client.end().catch(() => undefined);
  }
}
