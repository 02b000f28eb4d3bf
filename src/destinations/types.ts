import type { RelayEvent } from '../event';

/** What the outbox worker hands a destination for one attempt. */
export interface DeliveryRequest {
  /** Stable across retries: receivers use it to drop repeats. */
  deliveryId: string;
  /** 1 for the first try. */
  attempt: number;
  event: RelayEvent;
  /** Names of the rules that sent this event here. */
  rules: string[];
  /** Aborted when the attempt's time (delivery.timeoutMs) runs out or the daemon stops hard. */
  signal: AbortSignal;
}

/** What the receiver answered on success; recorded with the attempt. */
export interface DeliveryResult {
  status?: number | undefined;
  /** The first bytes of the receiver's answer (at most RESPONSE_SNIPPET_BYTES). */
  response?: string | undefined;
}

export const RESPONSE_SNIPPET_BYTES = 512;

/**
 * The one contract every destination module implements. `send` resolves when
 * the receiver took the message, and otherwise throws a DeliveryError saying
 * whether trying again can help.
 */
export interface Destination {
  readonly name: string;
  readonly type: 'slack' | 'email' | 'webhook';
  send(request: DeliveryRequest): Promise<DeliveryResult>;
  close(): Promise<void>;
}

export interface DeliveryErrorDetails {
  status?: number | undefined;
  response?: string | undefined;
  /** From Retry-After (or an SMTP hint): the receiver asked us to wait this long. */
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

export abstract class DeliveryError extends Error {
  abstract readonly retryable: boolean;
  readonly status?: number | undefined;
  readonly response?: string | undefined;
  readonly retryAfterMs?: number | undefined;
  constructor(message: string, details: DeliveryErrorDetails = {}) {
    super(message, { cause: details.cause });
    this.name = new.target.name;
    if (details.status !== undefined) this.status = details.status;
    if (details.response !== undefined) this.response = details.response;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
  }
}

/** Network errors, timeouts, 408, 429, 5xx, SMTP 4xx: trying later may work. */
export class RetryableDeliveryError extends DeliveryError {
  readonly retryable = true;
}

/** Other 4xx, revoked Slack hooks, SMTP 5xx rejections: retrying cannot help. */
export class PermanentDeliveryError extends DeliveryError {
  readonly retryable = false;
}
