import { expect } from 'chai';
import pg from 'pg';
import { COPIED, COPIED_TABLES, NOT_COPIED, findUnknownData } from '../../../src/store/migration';
import { migrate as migratePostgres } from '../../../src/store/postgres/migrations';
import { migrate as migrateSqlite } from '../../../src/store/sqlite/migrations';
import { createTestDatabase, describePostgres } from '../../support/postgres';
import { openSqliteFile } from '../../support/sqlite';

/** The tables a freshly migrated SQLite file has, with their columns. */
function sqliteTables(): Map<string, string[]> {
  const db = openSqliteFile(':memory:');
  try {
    migrateSqlite(db);
    const names = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all()
      .map((r) => r.name);
    return new Map(
      names.map((name) => [
        name,
        (db.pragma(`table_info(${JSON.stringify(name)})`) as { name: string }[]).map((c) => c.name),
      ]),
    );
  } finally {
    db.close();
  }
}

describe('migrate-store: what it copies and what it leaves', () => {
  it('knows every table of the SQLite schema: copied with every column, or named with why not', () => {
    const tables = sqliteTables();
    expect(findUnknownData(tables)).to.deep.equal([]);
    for (const table of COPIED_TABLES) {
      expect(tables.get(table), table).to.have.members([...COPIED[table].columns]);
    }
    for (const [table, why] of Object.entries(NOT_COPIED)) {
      expect(tables.has(table), table).to.equal(true);
      expect(why.length, `${table}: a reason`).to.be.above(20);
    }
  });

  it('names a table or column it does not know, rather than copy the rest without it', () => {
    const tables = sqliteTables();
    tables.set('notes', ['id', 'text']);
    tables.set('events', [...(tables.get('events') ?? []), 'ticket']);
    expect(findUnknownData(tables)).to.have.members(['table notes', 'column events.ticket']);
  });
});

describePostgres('migrate-store: the PostgreSQL schema takes every copied column', function () {
  this.timeout(30_000);

  it('has each copied table with the same columns, and no table of its own beyond its bookkeeping', async () => {
    const db = await createTestDatabase();
    const client = new pg.Client({ connectionString: db.url });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await migratePostgres(client);
      const { rows } = await client.query<{ table_name: string; column_name: string }>(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'",
      );
      const tables = new Map<string, string[]>();
      for (const r of rows) tables.set(r.table_name, [...(tables.get(r.table_name) ?? []), r.column_name]);
      for (const table of COPIED_TABLES) {
        expect(tables.get(table), table).to.have.members([...COPIED[table].columns]);
      }
      tables.delete('schema_migrations');
      expect(findUnknownData(tables)).to.deep.equal([]);
    } finally {
      await client.end().catch(() => undefined);
      await db.drop();
    }
  });
});
