/**
 * Which rejected callbacks are kept as rows. A flood must not fill the disk: per (reason, source) the first
 * `perWindow` of each window are kept, and across every source at most `totalPerWindow` a window; the rest are
 * only counted. The counts are handed out by drain() to be added to a row kept earlier (its `suppressed`
 * column): the last row kept of that source in its window, or, for a source with no row in its window (the
 * total was reached first), the last row kept with the same reason. So every rejection stays visible as a
 * number. Pure bookkeeping with the clock passed in; memory is bounded by maxSources, and a source gets a window
 * only when one of its rejections is kept, so at most totalPerWindow new ones a window.
 */
export interface SamplerOptions {
  perWindow: number;
  windowMs: number;
  /** (reason, source) pairs tracked at once; rejections beyond that are counted in `overflow` only. */
  maxSources: number;
  /** Rows kept a window across all sources (the windows here start on multiples of windowMs). */
  totalPerWindow: number;
}

export interface SuppressedCount {
  /** The row kept earlier that the rejections are counted on. */
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
  /** The window of the total: its index (start / windowMs) and the rows kept in it. */
  private total = { index: -1, kept: 0 };
  /** The last row kept per reason, any window: where counts with no row of their own source go. */
  private readonly lastKeptByReason = new Map<string, string>();
  /** Counts waiting for the next drain, by the row they go on (counted past the total). */
  private readonly unwrittenByRow = new Map<string, number>();

  constructor(private readonly options: SamplerOptions) {}

  /**
   * Whether a rejection of this reason and source would be kept now, if `admit` came next: for asking for room
   * elsewhere first (the rows all processes share) without spending any on a rejection this alone would count.
   */
  wouldKeep(reason: string, source: string, nowMs: number): boolean {
    const open = this.windows.get(keyOf(reason, source));
    if (open && nowMs - open.startedMs < this.options.windowMs && open.kept >= this.options.perWindow) return false;
    return this.totalKept(nowMs) < this.options.totalPerWindow;
  }

  /**
   * True when this rejection should be kept as a row (under `rejectionId`); false when it is only counted.
   * `allowed` false (no room among the rows all processes share) counts it as a rejection past the total would be.
   */
  admit(reason: string, source: string, rejectionId: string, nowMs: number, allowed = true): boolean {
    const key = keyOf(reason, source);
    let open = this.windows.get(key);
    if (open && nowMs - open.startedMs >= this.options.windowMs) {
      this.forget(key, open);
      open = undefined;
    }
    if (open && open.kept >= this.options.perWindow) {
      open.unwritten += 1;
      return false;
    }
    if (!allowed || this.totalKept(nowMs) >= this.options.totalPerWindow) {
      this.countPastTotal(reason, open);
      return false;
    }
    if (!open) {
      if (this.windows.size >= this.options.maxSources) this.forgetEnded(nowMs);
      if (this.windows.size >= this.options.maxSources) {
        this.overflowed += 1;
        return false;
      }
      open = { startedMs: nowMs, kept: 0, lastKeptId: rejectionId, unwritten: 0 };
      this.windows.set(key, open);
    }
    open.kept += 1;
    open.lastKeptId = rejectionId;
    this.total.kept += 1;
    this.lastKeptByReason.set(reason, rejectionId);
    return true;
  }

  /**
   * The counts to add to kept rows since the last drain, and how many
   * rejections had no row to be counted on (too many sources at once, or
   * none of their reason kept yet). Forgets windows that have ended.
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
    for (const [rejectionId, count] of this.unwrittenByRow) counts.push({ rejectionId, count });
    this.unwrittenByRow.clear();
    const overflowed = this.overflowed;
    this.overflowed = 0;
    return { counts, overflowed };
  }

  /** Rows kept in the total's current window. */
  private totalKept(nowMs: number): number {
    const index = Math.floor(nowMs / this.options.windowMs);
    if (index !== this.total.index) this.total = { index, kept: 0 };
    return this.total.kept;
  }

  private countPastTotal(reason: string, open: Window | undefined): void {
    if (open) {
      open.unwritten += 1;
      return;
    }
    const row = this.lastKeptByReason.get(reason);
    if (row === undefined) this.overflowed += 1;
    else this.unwrittenByRow.set(row, (this.unwrittenByRow.get(row) ?? 0) + 1);
  }

  private forgetEnded(nowMs: number): void {
    for (const [key, w] of this.windows) if (nowMs - w.startedMs >= this.options.windowMs) this.forget(key, w);
  }

  private forget(key: string, w: Window): void {
    if (w.unwritten > 0) this.ended.push({ rejectionId: w.lastKeptId, count: w.unwritten });
    this.windows.delete(key);
  }
}

function keyOf(reason: string, source: string): string {
  return `${reason}\u0000${source}`;
}
