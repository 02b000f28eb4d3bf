import fs from 'node:fs';
import type Database from 'better-sqlite3';
import type { Logger } from '../../log';

/** How soon a copy that found the file busy is first tried again (then twice as long each time, up to MAX). */
const FIRST_RETRY_MS = 10;
const MAX_RETRY_MS = 1_000;

/**
 * After the -wal was removed, SQLite keeps committing into the removed file, which is gone for good when the
 * process ends: acknowledged callbacks not yet copied into the database file would go with it. A checkpoint through
 * the open handle copies them home. Only while nothing has taken the -wal's place: a file there is another
 * process's log, and copying this one under it would corrupt what that process reads. Run again at every check,
 * for the alert and the attempts still written through this handle.
 */
export class WalWriteBack {
  /** Why the last copy failed; undefined when it last succeeded (or none was tried). */
  private failed: string | undefined;
  private wrote = false;
  private retry: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS / 2;
  private stopped = false;

  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
    private readonly describe: (err: unknown) => string,
    private readonly logger?: Logger,
  ) {}

  run(): void {
    if (this.stopped || fs.existsSync(`${this.path}-wal`)) return;
    try {
      const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      if (result?.busy !== 0) return this.fail('another connection is reading or writing', true);
      if (this.failed !== undefined || !this.wrote) {
        this.logger?.warn(
          { path: this.path },
          'commits in the removed -wal file were copied into the database file; restart skyrelay on this folder',
        );
      }
      this.wrote = true;
      this.failed = undefined;
      this.retryMs = FIRST_RETRY_MS / 2;
    } catch (err) {
      this.fail(this.describe(err));
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
  }

  private fail(why: string, busy = false): void {
    // Busy (a reader's snapshot, a checkpoint on the other thread: milliseconds) is tried again soon, backing off,
    // not only at the next check a second later: until a copy succeeds the acknowledged commits live only in the
    // removed file, and a process killed meanwhile takes them with it. Each try may wait 10 ms on the event loop
    // (the busy handler), hence the back-off. Any other failure waits for the next check.
    if (busy && this.retry === undefined && !this.stopped) {
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.run();
      }, this.retryMs);
      this.retry.unref();
    }
    // Logged once per kind of failure, not at every try.
    if (this.failed === why) return;
    this.failed = why;
    this.logger?.error(
      { path: this.path, reason: why },
      'could not copy the removed -wal file into the database file yet; trying again',
    );
  }
}
