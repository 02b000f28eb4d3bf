import type Database from 'better-sqlite3';
import type { RowSource, Statement } from '../sql';

/**
 * Runs the statements transaction scripts yield on one SQLite connection, each SQL text prepared once. Shared by the
 * store's connection and the read thread's (./reader.ts), so both execute a script's statements alike.
 */
export class PreparedStatements {
  private readonly prepared = new Map<string, Database.Statement>();
  /** Where a set-based statement's row values go among its other parameters, by statement. */
  private readonly splitAt = new Map<string, number>();

  constructor(private readonly db: Database.Database) {}

  execute(s: Statement): unknown {
    if (s.op === 'rows') return this.executeRows(s.sql, s.params, s.source);
    const statement = this.prepare(s.sql);
    switch (s.op) {
      case 'all':
        return statement.all(...s.params);
      case 'get':
        return statement.get(...s.params);
      case 'run':
        return statement.run(...s.params).changes;
    }
  }

  /** A set-based statement, once per row over a one-row source: no round trip to save in an embedded database. */
  private executeRows(sql: string, params: readonly unknown[], source: RowSource): unknown[] {
    const names = source.columns.map(([name]) => name);
    const key = `${sql}\u0000${names.join(',')}`;
    let statement = this.prepared.get(key);
    let split = this.splitAt.get(key);
    if (!statement || split === undefined) {
      const at = sql.indexOf(':rows');
      split = countPlaceholders(sql.slice(0, at));
      statement = this.db.prepare(sql.replace(':rows', `(SELECT ${names.map((n) => `? AS ${n}`).join(', ')})`));
      this.prepared.set(key, statement);
      this.splitAt.set(key, split);
    }
    const before = params.slice(0, split);
    const after = params.slice(split);
    const out: unknown[] = [];
    for (const row of source.rows) {
      if (statement.reader) out.push(...statement.all(...before, ...row, ...after));
      else statement.run(...before, ...row, ...after);
    }
    return out;
  }

  prepare(sql: string): Database.Statement {
    let statement = this.prepared.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.prepared.set(sql, statement);
    }
    return statement;
  }
}

function countPlaceholders(sql: string): number {
  return sql.split('?').length - 1;
}
