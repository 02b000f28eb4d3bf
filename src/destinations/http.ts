import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeUtf8Prefix } from './retry-after';
import { RESPONSE_SNIPPET_BYTES } from './types';

/** Body-reading interface of a fetch Response; lets tests and wrappers pass their own. */
interface BodySource {
  body: ReadableStream<Uint8Array> | null;
}

/**
 * Reads at most `maxBytes` of a response body and drops the rest, so a
 * receiver answering with megabytes (or streaming forever) costs us nothing.
 * Throws if the body errors, e.g. when the request's signal aborts mid-read.
 */
export async function readBodySnippet(
  response: BodySource,
  maxBytes: number = RESPONSE_SNIPPET_BYTES,
): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    // Read one byte past the limit's worth so a character split at the limit can be cut cleanly.
    while (total <= maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    // Cancelling releases the connection instead of draining what we will not read.
    reader.cancel().catch(() => undefined);
  }
  return decodeUtf8Prefix(Buffer.concat(chunks), maxBytes);
}

let cachedUserAgent: string | undefined;

/**
 * `skyrelay/<version>` from the nearest skyrelay package.json: the compiled
 * file sits at different depths in dist/ and the test build, so walk up.
 */
export function getUserAgent(): string {
  if (cachedUserAgent !== undefined) return cachedUserAgent;
  let version = 'unknown';
  for (let dir = __dirname, i = 0; i < 6; dir = dirname(dir), i++) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (isRecord(pkg) && pkg['name'] === 'skyrelay' && typeof pkg['version'] === 'string') {
        version = pkg['version'];
        break;
      }
    } catch {
      // No package.json at this level: keep walking up.
    }
  }
  cachedUserAgent = `skyrelay/${version}`;
  return cachedUserAgent;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasName(error: unknown, name: string): boolean {
  return isRecord(error) && error['name'] === name;
}

/** True when the error came from an AbortSignal.timeout firing (also when wrapped as a cause). */
export function isTimeoutError(error: unknown): boolean {
  for (let e = error, depth = 0; isRecord(e) && depth < 4; depth++) {
    if (hasName(e, 'TimeoutError')) return true;
    e = e['cause'];
  }
  return false;
}

/**
 * The deepest error code (ECONNREFUSED, UND_ERR_SOCKET...) in a cause chain:
 * wrappers add their own generic codes on top of the one that says what broke.
 */
export function findErrorCode(error: unknown): string | undefined {
  let found: string | undefined;
  for (let e = error, depth = 0; isRecord(e) && depth < 4; depth++) {
    const code = e['code'];
    if (typeof code === 'string' && code !== '') found = code;
    e = e['cause'];
  }
  return found;
}

/** True for an attempt ended by a signal: our deadline or the worker's abort. */
export function isAbortOrTimeout(error: unknown): boolean {
  for (let e = error, depth = 0; isRecord(e) && depth < 4; depth++) {
    if (hasName(e, 'AbortError') || hasName(e, 'TimeoutError')) return true;
    e = e['cause'];
  }
  return false;
}

/**
 * Words for a request that got no answer. Built from names and codes only:
 * library messages can embed the target URL, which may itself be a secret.
 * Pass the worker's signal: it may abort with any reason, not only an AbortError.
 */
export function describeRequestFailure(error: unknown, timeoutMs: number, signal?: AbortSignal): string {
  if (isTimeoutError(error)) return `timed out: no answer within ${timeoutMs} ms`;
  if (signal?.aborted === true || isAbortOrTimeout(error)) return 'the attempt was aborted';
  const code = findErrorCode(error);
  return code === undefined ? 'the request failed' : `the request failed (${code})`;
}

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
