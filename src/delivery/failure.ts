import { scrubSecrets } from '../scrub';
import { DeliveryError } from '../destinations/types';
import type { AttemptRecord } from './types';

export interface FailureFacts {
  retryable: boolean;
  error: string;
  status?: number;
  response?: string;
  retryAfterMs?: number;
}

/** What a failed send tells the retry maths, whatever the destination threw. */
export function describeFailure(err: unknown): FailureFacts {
  if (err instanceof DeliveryError) {
    return {
      retryable: err.retryable,
      error: err.message,
      ...(err.status !== undefined ? { status: err.status } : {}),
      ...(err.response !== undefined ? { response: err.response } : {}),
      ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
    };
  }
  // A destination that throws something unexpected is treated as transient; maxAttempts bounds it.
  return { retryable: true, error: err instanceof Error ? err.message : String(err) };
}

/**
 * The last fence before an attempt is stored, logged or alerted on: each
 * destination scrubs its own secrets, but a receiver can echo any of them
 * (another destination's hook token, a partner key it was sent), so every
 * configured secret is taken out of the free text here.
 */
export function scrubAttempt(attempt: AttemptRecord, secrets: readonly string[]): AttemptRecord {
  if (secrets.length === 0) return attempt;
  return {
    ...attempt,
    ...(attempt.error !== undefined ? { error: scrubSecrets(attempt.error, secrets) } : {}),
    ...(attempt.response !== undefined ? { response: scrubSecrets(attempt.response, secrets) } : {}),
  };
}
