import fs from 'node:fs';

/**
 * Durability of commits without holding the event loop: SQLite runs with synchronous=NORMAL, so a commit writes
 * its frames to the -wal without waiting for the disk, and this flushes the -wal (fdatasync, in libuv's thread
 * pool) before anyone is told the commit happened. That is the guarantee of synchronous=FULL, whose commit calls
 * the same fdatasync on the thread that commits: here the event loop serves other requests meanwhile, and one
 * flush covers every commit made before it began, however many.
 *
 * A failed flush leaves the -wal's state unknown (a later flush may succeed without the lost pages ever reaching
 * the disk), so it is final: every later write fails, and the store reports why until a restart.
 */
export class WalSync {
  private fd: number | undefined;
  /** Flushes asked for, and flushes whose start came after at least that many asks (so they covered them). */
  private asked = 0;
  private covered = 0;
  private flushing = false;
  private readonly waiting: { upTo: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  private failure: Error | undefined;

  constructor(private readonly walPath: string) {}

  /** Flushes made so far: one per burst of commits, not one per commit. */
  flushes = 0;

  /** Why the -wal could not be flushed; undefined while it can. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Resolves once the -wal was flushed after this call: every commit made before it is on disk. */
  durable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const upTo = ++this.asked;
    const done = new Promise<void>((resolve, reject) => this.waiting.push({ upTo, resolve, reject }));
    if (!this.flushing) void this.flushLoop();
    return done;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private async flushLoop(): Promise<void> {
    this.flushing = true;
    try {
      while (this.covered < this.asked && !this.failure) {
        const upTo = this.asked;
        await this.flush();
        this.flushes += 1;
        this.covered = upTo;
        while (this.waiting.length > 0 && (this.waiting[0]?.upTo ?? Infinity) <= upTo) this.waiting.shift()?.resolve();
      }
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      for (const w of this.waiting.splice(0)) w.reject(this.failure);
    } finally {
      this.flushing = false;
    }
  }

  private flush(): Promise<void> {
    // Opened at the first flush: by then a commit has made the -wal. Held open, so a -wal removed under the store
    // is still the file the commits went to (the driver notices the removal and stops acknowledging).
    this.fd ??= fs.openSync(this.walPath, 'r');
    const fd = this.fd;
    return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }
}
