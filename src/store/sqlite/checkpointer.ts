import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/**
 * Checkpoints on a thread of their own. SQLite copies the -wal into the database file when a commit finds the -wal
 * past wal_autocheckpoint pages: on the committing thread, which is the event loop, with an fsync of the database
 * file at the end, so a callback arriving then waited tens of milliseconds for it. Here a worker thread with its
 * own connection runs a PASSIVE checkpoint every interval (writers go on meanwhile), and the store's connection
 * checkpoints only if this thread could not start.
 */

interface CheckpointerData {
  path: string;
  intervalMs: number;
}

const INTERVAL_MS = 250;

export class Checkpointer {
  private constructor(private readonly worker: Worker) {}

  /** Starts the thread; undefined where it cannot run (the caller keeps SQLite's own checkpoints then). */
  static start(file: string, intervalMs = INTERVAL_MS): Checkpointer | undefined {
    try {
      const data: CheckpointerData = { path: file, intervalMs };
      const worker = new Worker(path.join(__dirname, 'checkpointer.js'), { workerData: data });
      // A process that has nothing else to do does not stay alive for it.
      worker.unref();
      worker.on('error', () => undefined);
      return new Checkpointer(worker);
    } catch {
      return undefined;
    }
  }

  async stop(): Promise<void> {
    await this.worker.terminate().catch(() => undefined);
  }
}

if (!isMainThread && parentPort && (workerData as Partial<CheckpointerData> | undefined)?.path !== undefined) {
  const { path: file, intervalMs } = workerData as CheckpointerData;
  const db = new Database(file, { fileMustExist: true });
  // Never wait for a lock: a checkpoint that cannot run now runs at the next tick.
  db.pragma('busy_timeout = 0');
  db.pragma('wal_autocheckpoint = 0');
  setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy or the file gone: the driver notices a lost file itself; the next tick tries again.
    }
  }, intervalMs);
}
