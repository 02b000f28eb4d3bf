import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir } from './daemon';
import { type SqliteHandle } from './sqlite';

/**
 * A place for a database whose disk can be filled up and emptied again.
 *
 * Where the tests run as root (CI, and the 2-core machines here), that is a
 * real tmpfs of a few MB: SQLite meets ENOSPC exactly as on a full disk.
 * Elsewhere mounting is not allowed, and the same SQLITE_FULL is produced by
 * capping the daemon's own connection with PRAGMA max_page_count.
 */
export interface SmallDisk {
  kind: 'tmpfs' | 'page-cap';
  dir: string;
  /** Leaves no room for the database to grow. */
  fill(db: SqliteHandle): void;
  /** Gives the room back. */
  clear(db: SqliteHandle): void;
  release(): void;
}

export function prepareSmallDisk(sizeMb = 8): SmallDisk {
  const dir = makeTempDir('skyrelay-small-disk');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return capPages(dir);
  }
  const filler = path.join(dir, 'filler');
  return {
    kind: 'tmpfs',
    dir,
    fill() {
      const fd = fs.openSync(filler, 'a');
      try {
        // Big writes first, then smaller ones for the last free pages.
        for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) writeUntilFull(fd, Buffer.alloc(size));
      } finally {
        fs.closeSync(fd);
      }
    },
    clear() {
      fs.rmSync(filler, { force: true });
    },
    release() {
      // Lazy: a test that failed half-way may still hold the database open.
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function writeUntilFull(fd: number, chunk: Buffer): void {
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
}

function capPages(dir: string): SmallDisk {
  return {
    kind: 'page-cap',
    dir,
    fill(db) {
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    },
    clear(db) {
      db.pragma('max_page_count = 4294967294');
    },
    release() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
