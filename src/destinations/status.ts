/**
 * The one classification of a receiver's HTTP status, for every HTTP-based
 * destination: worth another attempt, or not. (Failures with no status at
 * all, network errors and timeouts, are retried by the destinations: see
 * request-failure.ts.)
 */
export type StatusClass = 'ok' | 'retryable' | 'permanent';

/**
 * 408, 429 and 5xx say "not now"; everything else outside 2xx says "never"
 * (including 3xx, because redirects are not followed: a moved endpoint needs
 * a config change, not another attempt, and codes outside 100-599, which are
 * a receiver's considered if odd answer that the same request would get again).
 */
export function classifyHttpStatus(status: number): StatusClass {
  if (status >= 200 && status <= 299) return 'ok';
  if (status === 408 || status === 429 || (status >= 500 && status <= 599)) return 'retryable';
  return 'permanent';
}
