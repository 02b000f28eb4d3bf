/**
 * Copying a SQLite deployment's data into PostgreSQL (`skyrelay migrate-store`). Not part of `Store`: only this
 * one-off copy reads tables row by row, and only a SQLite store can be a source and a PostgreSQL one a target, so
 * a narrow pair keeps the daemon's interface free of it. Rows pass through as plain column maps; each side keeps
 * its SQL in its own folder (src/store/sqlite/export.ts, src/store/postgres/import.ts).
 */

/** What is copied, parents before children (deliveries reference events, attempts deliveries). */
export const COPIED_TABLES = [
  'events',
  'deliveries',
  'attempts',
  'callback_keys',
  'callback_copies',
  'callback_tally',
  'rejections',
  'silences',
  'event_silences',
  'payouts',
  'payout_reconciliations',
] as const;
export type CopiedTable = (typeof COPIED_TABLES)[number];

/** One row, column name to value as the source keeps it. */
export type CopiedRow = Record<string, unknown>;

export interface RowPage {
  rows: CopiedRow[];
  /** The source's key of the last row, opaque to everyone else; the next page starts after it. Undefined when the page is empty. */
  lastKey: string | undefined;
}

export interface MigrationSource {
  /** Rows in the table, or only those with a key above `afterKey`. */
  countRows(table: CopiedTable, afterKey?: string): Promise<number>;
  /** Up to `limit` rows with a key above `afterKey` (from the first without one), in key order. */
  exportRows(table: CopiedTable, afterKey: string | undefined, limit: number): Promise<RowPage>;
  close(): Promise<void>;
}

export interface MigrationTarget {
  /** Where an earlier run stopped, per table: the source key of the last row it committed. */
  readProgress(): Promise<Map<CopiedTable, string>>;
  /**
   * Inserts the rows, skipping any already there (so no run duplicates), and records `lastKey` as this table's
   * progress in the same transaction. Resolves the number of rows actually inserted.
   */
  importRows(table: CopiedTable, rows: readonly CopiedRow[], lastKey: string): Promise<number>;
  close(): Promise<void>;
}

export interface CopyProgress {
  table: CopiedTable;
  /** Rows of this table now in the target from this source (this run and earlier ones). */
  done: number;
  total: number;
  /** Rows this run inserted into this table so far. */
  inserted: number;
}

/**
 * Copies every table in order, page by page, each page committed with its progress: a run that stops (crash,
 * Ctrl-C, the server going away) is continued by the next from the last committed page.
 */
export async function copyStore(
  source: MigrationSource,
  target: MigrationTarget,
  options: { batchSize: number; onProgress?: (progress: CopyProgress) => void },
): Promise<Map<CopiedTable, number>> {
  const progress = await target.readProgress();
  const inserted = new Map<CopiedTable, number>();
  for (const table of COPIED_TABLES) {
    const total = await source.countRows(table);
    let after = progress.get(table);
    let count = 0;
    let pages = 0;
    // Rows already behind the cursor: what earlier runs copied, so the progress line counts from there.
    let done = after === undefined ? 0 : total - (await source.countRows(table, after));
    for (;;) {
      const page = await source.exportRows(table, after, options.batchSize);
      if (page.lastKey === undefined) break;
      count += await target.importRows(table, page.rows, page.lastKey);
      after = page.lastKey;
      done += page.rows.length;
      pages++;
      options.onProgress?.({ table, done, total, inserted: count });
    }
    // A table with nothing (left) to copy still gets its line.
    if (pages === 0) options.onProgress?.({ table, done, total, inserted: count });
    inserted.set(table, count);
  }
  return inserted;
}
