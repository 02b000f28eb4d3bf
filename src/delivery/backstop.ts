import { setMaxListeners } from 'node:events';

/** Sends starting within this long of each other share one abort. */
const SLICE_MS = 100;

interface Slice {
  startedAt: number;
  controller: AbortController;
  timer: NodeJS.Timeout;
  open: number;
}

/**
 * The worker's backstop for a destination that does not end a send at timeoutMs itself: a send still running
 * `afterMs` after it started is aborted, so it can never hold a lease or the drain open. Sends that start within
 * SLICE_MS of each other share one AbortController and one timer (an AbortController costs about 3 us, a timer
 * about 0.5, a whole send about 50): the shared abort fires `afterMs` after the slice's first send started, by when
 * each send of the slice has run at least `afterMs - SLICE_MS`. A slice whose sends all ended drops its timer.
 */
export class Backstop {
  private current: Slice | undefined;

  constructor(
    private readonly afterMs: number,
    /** What the abort says: the deadline the destination should have kept. */
    private readonly reason: string,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The signal for a send starting now, and what to call when it ends (however it ends). */
  take(): { signal: AbortSignal; done: () => void } {
    const at = this.now();
    let slice = this.current;
    if (slice === undefined || at - slice.startedAt >= SLICE_MS) {
      slice = this.open(at);
      this.current = slice;
    }
    slice.open++;
    const taken = slice;
    let ended = false;
    return {
      signal: taken.controller.signal,
      done: () => {
        if (ended) return;
        ended = true;
        taken.open--;
        if (taken.open === 0 && taken !== this.current) clearTimeout(taken.timer);
      },
    };
  }

  private open(at: number): Slice {
    const controller = new AbortController();
    // Every send of the slice listens on the one signal: more than the default 10 is what it is for.
    setMaxListeners(0, controller.signal);
    const slice: Slice = {
      startedAt: at,
      controller,
      open: 0,
      timer: setTimeout(() => {
        if (this.current === slice) this.current = undefined;
        if (slice.open > 0) {
          controller.abort(new DOMException(this.reason, 'TimeoutError'));
        }
      }, this.afterMs),
    };
    slice.timer.unref();
    // The slice before this one stops taking sends: with none open, its timer has nothing left to stop.
    const before = this.current;
    if (before !== undefined && before.open === 0) clearTimeout(before.timer);
    return slice;
  }
}
