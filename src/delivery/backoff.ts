/**
 * Retry arithmetic for the outbox worker, kept pure (no clock, no timers, an
 * injectable random) so every decision can be tested exactly.
 */
export interface RetryPolicy {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export type Verdict = { kind: 'retry'; delayMs: number } | { kind: 'dead'; reason: string };

/** Past this exponent initialBackoffMs * 2^n exceeds any sane cap; stop doubling before it reaches Infinity. */
const MAX_EXPONENT = 52;

/**
 * Delay before the next try after `attempt` attempts have been made.
 * Equal jitter (half fixed, half random) spreads retries from many
 * deliveries apart without ever collapsing a delay to ~0, which full jitter
 * can do and which would hammer a receiver that just failed.
 */
export function nextDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = computeBase(attempt, policy);
  const r = clampUnit(random());
  const delay = Math.round(base / 2 + (r * base) / 2);
  // Rounding must not push a non-integer base outside [base/2, base].
  return Math.min(base, Math.max(base / 2, delay));
}

function computeBase(attempt: number, policy: RetryPolicy): number {
  const cap = Math.max(0, policy.maxBackoffMs);
  const exponent = Math.min(MAX_EXPONENT, Math.max(0, Math.floor(attempt) - 1));
  const grown = Math.max(0, policy.initialBackoffMs) * 2 ** exponent;
  return Number.isFinite(grown) ? Math.min(cap, grown) : cap;
}

/** A misbehaving random source (NaN, 1.3) must not break the bounds. */
function clampUnit(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(1, Math.max(0, value));
}

export function decideAfterFailure(
  input: { attempt: number; retryable: boolean; retryAfterMs?: number; error: string },
  policy: RetryPolicy,
  random?: () => number,
): Verdict {
  const { attempt, retryable, retryAfterMs, error } = input;
  if (!retryable) return { kind: 'dead', reason: `permanent failure, not retried: ${error}` };
  if (attempt >= policy.maxAttempts) {
    return { kind: 'dead', reason: `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${error}` };
  }
  const jittered = nextDelay(attempt, policy, random);
  const asked = retryAfterMs !== undefined && Number.isFinite(retryAfterMs) ? retryAfterMs : 0;
  // Retry-After is honoured only up to maxBackoffMs: a receiver must not be
  // able to park a delivery (and whatever is queued behind it) for longer
  // than the operator's policy allows; if it is still unwilling by then, the
  // attempt simply fails again and counts towards maxAttempts.
  const delayMs = Math.min(Math.max(0, policy.maxBackoffMs), Math.max(jittered, asked));
  return { kind: 'retry', delayMs };
}
