import { DeliveryError } from '../destinations/types';

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
      retryable: err.retryable, error: err.message,
      ...(err.status !== undefined ? { status: err.status } : {}),
      ...(err.response !== undefined ? { response: err.response } : {}),
      ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
    };
  }
  // A destination that throws something unexpected is treated as transient; maxAttempts bounds it.
  return { retryable: true, error: err instanceof Error ? err.message : String(err) };
}
