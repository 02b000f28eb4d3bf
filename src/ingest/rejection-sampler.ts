/**
 * Which rejected callbacks are kept as rows. A flood from one address must
 * not fill the disk: per (reason, remote address) the first `perWindow` of
 * each window are kept and the rest only counted. The counts are handed out
 * by drain() to be added to the last row kept in their window (its
 * `suppressed` column), so every rejection stays visible as a number. Pure
 * bookkeeping with the clock passed in; memory is bounded by maxSources.
 */
export interface SamplerOptions {
  perWindow: number;
  windowMs: number;
  /** (reason, address) pairs tracked at once; rejections beyond that are counted in `overflow` only. */
  maxSources: number;
}

export interface SuppressedCount {
  /** The last row kept in the window the rejections fell into. */
  rejectionId: string;
  count: number;
}

interface Window {
  startedMs: number;
  kept: number;
  lastKeptId: string;
  /** Suppressed since the last drain. */
  unwritten: number;
}

export class RejectionSampler {
  private readonly windows = new Map<string, Window>();
  /** Counts of windows already forgotten, waiting for the next drain. */
  private ended: SuppressedCount[] = [];
  private overflowed = 0;

  constructor(private readonly options: SamplerOptions) {}

  /** True when this rejection should be kept as a row (under `rejectionId`); false when it is only counted. */
  admit(reason: string, address: string | undefined, rejectionId: string, nowMs: number): boolean {
    const key = `${reason}\u0000${address ?? ''}`;
    const open = this.windows.get(key);
    if (open && nowMs - open.startedMs < this.options.windowMs) {
      if (open.kept >= this.options.perWindow) {
        open.unwritten += 1;
        return false;
      }
      open.kept += 1;
      open.lastKeptId = rejectionId;
      return true;
    }
    if (open) this.forget(key, open);
    else if (this.windows.size >= this.options.maxSources) {
      this.forgetEnded(nowMs);
      if (this.windows.size >= this.options.maxSources) {
        this.overflowed += 1;
        return false;
      }
    }
    this.windows.set(key, { startedMs: nowMs, kept: 1, lastKeptId: rejectionId, unwritten: 0 });
    return true;
  }

  /**
   * The counts to add to kept rows since the last drain, and how many
   * rejections had no window to count in (too many sources at once). Forgets
   * windows that have ended.
   */
  drain(nowMs: number): { counts: SuppressedCount[]; overflowed: number } {
    this.forgetEnded(nowMs);
    const counts = this.ended;
    this.ended = [];
    for (const w of this.windows.values()) {
      if (w.unwritten === 0) continue;
      counts.push({ rejectionId: w.lastKeptId, count: w.unwritten });
      w.unwritten = 0;
    }
    const overflowed = this.overflowed;
    this.overflowed = 0;
    return { counts, overflowed };
  }

  private forgetEnded(nowMs: number): void {
    for (const [key, w] of this.windows) if (nowMs - w.startedMs >= this.options.windowMs) this.forget(key, w);
  }

  private forget(key: string, w: Window): void {
    if (w.unwritten > 0) this.ended.push({ rejectionId: w.lastKeptId, count: w.unwritten });
    this.windows.delete(key);
  }
}
