/** Bounding one attempt in time: our deadline joined to the worker's abort. */

export interface AttemptSignal {
  signal: AbortSignal;
  /** Clears the deadline timer and the listener on the worker's signal; call when the attempt ends. */
  dispose(): void;
}

/**
 * The worker's signal plus our own deadline, so an attempt ends at timeoutMs
 * even if the worker never aborts. Not AbortSignal.any(AbortSignal.timeout()):
 * on Node 20 the timeout signal is only weakly held by any() and can be
 * garbage-collected before it fires, which leaves the attempt hanging.
 */
export function createAttemptSignal(signal: AbortSignal, timeoutMs: number): AttemptSignal {
  const controller = new AbortController();
  const forward = (): void => controller.abort(signal.reason);
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  if (signal.aborted) forward();
  else signal.addEventListener('abort', forward, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      signal.removeEventListener('abort', forward);
    },
  };
}

/**
 * Settles with the signal's reason once it aborts, whatever `work` does: a
 * library that ignores the signal at some stage must not hold the attempt open.
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) {
      onAbort();
      work.catch(() => undefined);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
