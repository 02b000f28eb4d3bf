import { StoreUnavailableError } from '../errors';

/**
 * node-postgres failures that mean "the server cannot be reached or cannot
 * take this now": the pool gets new connections by itself once the server is
 * back, so each is a StoreUnavailableError (503, red /readyz), never a crash.
 */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH']);
/** SQLSTATEs of a server that is stopping, starting, full or out of connections. */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '53100', '53200', '57014', '25006']);
/** Lock waits and deadlocks: another session held what this one needed. */
const BUSY_STATES = new Set(['55P03', '40P01', '40001']);

export function codeOf(err: unknown): string | undefined {
  if (err instanceof StoreUnavailableError) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const message = err instanceof Error ? err.message : '';
  // Errors node-postgres raises itself carry no code, only these messages.
  if (/timeout/i.test(message)) return 'TIMEOUT';
  if (/Connection terminated|connection error|not queryable|ended/i.test(message)) return 'CONNECTION_LOST';
  return undefined;
}

/** True when the database, not the request, is the problem: a batch of writes fails together instead of one by one. */
export function isUnavailable(err: unknown): boolean {
  const code = codeOf(err);
  if (code === undefined) return false;
  return (
    NETWORK_CODES.has(code) ||
    UNAVAILABLE_STATES.has(code) ||
    code.startsWith('08') ||
    code === 'TIMEOUT' ||
    code === 'CONNECTION_LOST'
  );
}

/**
 * Whatever the item, this write cannot succeed now: the server is unreachable, or a lock stayed held past
 * lock_timeout (writing a batch's items one by one would wait that long for each). A deadlock is not: written alone,
 * each item goes through.
 */
export function failsAll(err: unknown): boolean {
  return isUnavailable(err) || codeOf(err) === '55P03';
}

export function isBusy(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && BUSY_STATES.has(code);
}
