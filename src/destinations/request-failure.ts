import { isRecord } from '../is-record';

/** Telling what went wrong with a request that got no answer, from error names and codes only. */

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

/** What a code looks like (ECONNREFUSED, UND_ERR_SOCKET, ERR_TLS_CERT_ALTNAME_INVALID): anything else is not quoted. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * The deepest error code (ECONNREFUSED, UND_ERR_SOCKET...) in a cause chain:
 * wrappers add their own generic codes on top of the one that says what broke.
 * Only code-shaped words count: a library free to put any text there could
 * put a URL (a credential) in it.
 */
export function findErrorCode(error: unknown): string | undefined {
  let found: string | undefined;
  for (let e = error, depth = 0; isRecord(e) && depth < 4; depth++) {
    const code = e['code'];
    if (typeof code === 'string' && ERROR_CODE.test(code)) found = code;
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
