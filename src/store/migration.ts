import { MigrationSourceInUseError, MigrationUnknownDataError, type SourceWriter } from './errors';

/**
 * Copying a SQLite deployment's data into PostgreSQL (`skyrelay migrate-store`). Not part of `Store`: only this
 * one-off copy reads tables row by row, and only a SQLite store can be a source and a PostgreSQL one a target, so
 * a narrow pair keeps the daemon's interface free of it. Rows pass through as plain column maps; each side keeps
 * its SQL in its own folder (src/store/sqlite/export.ts, src/store/postgres/import.ts).
 *
 * Every table of the source is either copied (COPIED: with every column it has) or named in NOT_COPIED with the
 * reason; the copy checks the source against both before it starts and refuses anything else, so a table or column
 * added later is never left behind without a word.
 */

interface CopiedShape {
  /** The columns copied, as both schemas name them: every column the source table has. */
  readonly columns: readonly string[];
  /** The columns that name one row (its primary key): what a refusal says of a row. */
  readonly key: readonly string[];
}

/**
 * What is copied, parents before children (deliveries reference events, attempts deliveries, group members events).
 * Beyond the history (events, deliveries, attempts, payouts), everything a running daemon goes on from: callback
 * identities (dedup), silences and the routes they held back, group members and windows (alerts waiting to be sent
 * as one message), rejection-alert windows (rejections folded into a summary not sent yet), destination slots (a
 * pause a destination asked for, Slack's rate), metric totals (counters carry on rather than reset), the overview's
 * per-minute counts, signed-out dashboard sessions (their cookies stay refused), the ledger's tally of acknowledged
 * callbacks and the days whose summary was raised (so none is raised twice), and each payout's count of ordered
 * events (a payout's next event takes its place after those already queued).
 */
export const COPIED = {
  events: {
    columns: [
      'id',
      'source',
      'type',
      'partner',
      'control_number',
      'pay_type',
      'status',
      'deal_time',
      'body',
      'received_ms',
      'duplicates',
      'last_seen_ms',
      'origin',
      'routes',
    ],
    key: ['id'],
  },
  deliveries: {
    columns: [
      'id',
      'event_id',
      'destination',
      'rules',
      'state',
      'attempts',
      'next_attempt_ms',
      'lease_until_ms',
      'lease_owner',
      'created_ms',
      'updated_ms',
      'last_status',
      'last_error',
      'replays',
      'payout_key',
      'payout_seq',
      'held_since_ms',
    ],
    key: ['id'],
  },
  attempts: {
    columns: ['id', 'delivery_id', 'attempt', 'started_ms', 'duration_ms', 'outcome', 'status', 'error', 'response'],
    key: ['id'],
  },
  callback_keys: {
    columns: ['partner', 'control_number', 'pay_type', 'deal_time', 'event_id', 'received_ms', 'digest'],
    key: ['partner', 'control_number', 'pay_type', 'deal_time'],
  },
  callback_copies: { columns: ['id', 'event_id', 'received_ms', 'body', 'digest', 'repeats'], key: ['id'] },
  callback_tally: { columns: ['quarter_ms', 'partner', 'outcome', 'count'], key: ['quarter_ms', 'partner', 'outcome'] },
  rejections: {
    columns: [
      'id',
      'received_ms',
      'remote_address',
      'method',
      'path',
      'content_type',
      'status',
      'reason',
      'description',
      'partner',
      'body',
      'body_bytes',
      'content_type_bytes',
      'suppressed',
    ],
    key: ['id'],
  },
  silences: {
    columns: [
      'id',
      'matchers',
      'destinations',
      'starts_ms',
      'ends_ms',
      'created_by',
      'created_ms',
      'comment',
      'expired_by',
      'expired_ms',
      'created_via',
      'created_from',
      'expired_via',
      'expired_from',
    ],
    key: ['id'],
  },
  event_silences: { columns: ['event_id', 'destination', 'silence_id', 'rules'], key: ['event_id', 'destination'] },
  group_members: {
    columns: ['event_id', 'destination', 'group_key', 'rules', 'created_ms', 'message_event_id'],
    key: ['event_id', 'destination'],
  },
  group_windows: { columns: ['destination', 'group_key', 'last_flush_ms'], key: ['destination', 'group_key'] },
  payouts: {
    columns: [
      'id',
      'partner',
      'control_number',
      'state',
      'first_seen_ms',
      'last_seen_ms',
      'last_deal_time',
      'state_since_ms',
      'stuck_state',
      'anomalies',
      'confirmation',
    ],
    key: ['partner', 'control_number'],
  },
  payout_reconciliations: {
    columns: [
      'id',
      'partner',
      'control_number',
      'first_ms',
      'last_ms',
      'checks',
      'status',
      'status_desc',
      'outcome',
      'detail',
      'event_id',
    ],
    key: ['id'],
  },
  alert_windows: {
    columns: [
      'reason',
      'destination',
      'opened_ms',
      'folded',
      'last_status',
      'last_partner',
      'last_remote_address',
      'last_description',
    ],
    key: ['reason', 'destination'],
  },
  destination_slots: { columns: ['destination', 'next_ms'], key: ['destination'] },
  destination_states: {
    columns: [
      'destination',
      'state',
      'reason',
      'failures',
      'since_ms',
      'probe_interval_ms',
      'probe_ms',
      'paused_by',
      'alerted',
      'last_errors',
      'last_error_ms',
      'updated_ms',
    ],
    key: ['destination'],
  },
  metric_series: { columns: ['series', 'family', 'type', 'help', 'sample', 'labels', 'value'], key: ['series'] },
  callback_minutes: { columns: ['minute_ms', 'outcome', 'count'], key: ['minute_ms', 'outcome'] },
  ui_sessions_ended: { columns: ['id', 'expires_ms'], key: ['id'] },
  ledger_days: {
    columns: ['day', 'timezone', 'computed_ms', 'balanced', 'unexplained', 'event_id'],
    key: ['day'],
  },
  payout_order: { columns: ['payout_key', 'last_seq'], key: ['payout_key'] },
} as const satisfies Record<string, CopiedShape>;

export type CopiedTable = keyof typeof COPIED;
export const COPIED_TABLES = Object.keys(COPIED) as CopiedTable[];

/**
 * The source's tables that are deliberately not copied, each with why: state of the processes that ran on the
 * SQLite file, which are stopped, and that the daemons on PostgreSQL make again for themselves.
 */
export const NOT_COPIED: Readonly<Record<string, string>> = {
  metric_processes:
    'each running process’s own gauges (memory, CPU, event loop), written again by every process within one publish interval',
  health_probe: 'the row /readyz writes to test a write, written again on the next probe',
  job_locks:
    'which process runs a one-at-a-time job now: none, once the daemons are stopped (PostgreSQL uses advisory locks instead)',
  rejection_quota: 'how many rejections this minute may still keep: a count that starts again every minute',
  payout_counts:
    'payouts per state, kept as payouts change: counted again from the copied payouts as each page goes in',
  destination_activity:
    'each destination’s last success and failure: taken again from the copied attempts as each page goes in',
};

/** One row, column name to value as the source keeps it. */
export type CopiedRow = Record<string, unknown>;

export interface RowPage {
  rows: CopiedRow[];
  /** The source's key of the last row, opaque to everyone else; the next page starts after it. Undefined when the page is empty. */
  lastKey: string | undefined;
}

export interface MigrationSource {
  /** Every table the source keeps (its own bookkeeping aside), with its columns. */
  describeTables(): Promise<Map<string, string[]>>;
  /** Processes that published their metrics at or after `sinceMs`: daemons that may still be writing to the source. */
  findWriters(sinceMs: number): Promise<SourceWriter[]>;
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
   * Inserts every row and records `lastKey` as this table's progress, in one transaction. A row it cannot take
   * (MigrationRowsRefusedError, naming each) commits nothing of the page. Resolves the number of rows inserted.
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

export interface CopyOptions {
  batchSize: number;
  onProgress?: (progress: CopyProgress) => void;
  /**
   * A process whose metrics are older than this is gone (the publish interval times three, as the daemon judges);
   * a younger one is a daemon still running on the source, and the copy refuses to start.
   */
  writerStaleAfterMs: number;
  now?: () => number;
}

/**
 * What of the source the copy does not know, as `table x` and `column t.c`: empty when every table is copied whole
 * or named in NOT_COPIED. (The source is brought to the current schema before it is read, so no copied column is
 * missing from it.)
 */
export function findUnknownData(tables: ReadonlyMap<string, readonly string[]>): string[] {
  const unknown: string[] = [];
  for (const [table, columns] of tables) {
    if (Object.hasOwn(NOT_COPIED, table)) continue;
    if (!Object.hasOwn(COPIED, table)) {
      unknown.push(`table ${table}`);
      continue;
    }
    const known: readonly string[] = COPIED[table as CopiedTable].columns;
    for (const c of columns) if (!known.includes(c)) unknown.push(`column ${table}.${c}`);
  }
  return unknown;
}

/**
 * Copies every table in order, page by page, each page committed with its progress: a run that stops (crash,
 * Ctrl-C, the server going away, a row PostgreSQL refused) is continued by the next from the last committed page.
 * Refuses to start while a daemon still writes to the source, or when the source holds data the copy does not know.
 */
export async function copyStore(
  source: MigrationSource,
  target: MigrationTarget,
  options: CopyOptions,
): Promise<Map<CopiedTable, number>> {
  const now = options.now ?? Date.now;
  const writers = await source.findWriters(now() - options.writerStaleAfterMs);
  if (writers.length > 0) throw new MigrationSourceInUseError(writers, options.writerStaleAfterMs);
  const unknown = findUnknownData(await source.describeTables());
  if (unknown.length > 0) throw new MigrationUnknownDataError(unknown);

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
