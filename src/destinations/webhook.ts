import { maskSecrets } from '../mask';
import { Webhook } from 'standardwebhooks';
import type { RelayEvent } from '../event';
import { stringifyEvent, stringifyWith } from '../event-json';
import { createAttemptSignal } from './attempt-signal';
import { describeRequestFailure } from './request-failure';
import { getUserAgent } from './user-agent';
import { readBodySnippet } from './snippet';
import type { DestinationOptions } from './options';
import { toOneLine } from './present';
import { classifyHttpStatus } from './status';
import { parseRetryAfter } from './retry-after';
import type { WebhookDestinationConfig } from './schema';
import { secretsOfDestination, toSafeCause } from './secrets';
import { PermanentDeliveryError, RetryableDeliveryError } from './types';
import type { DeliveryResult, Destination } from './types';

/** What receivers get: a Standard Webhooks style envelope around the event as we store it. */
export interface WebhookEnvelope {
  type: string;
  /** When skyrelay received the event: the same on every attempt, so a retry's body is byte-identical. */
  timestamp: string;
  data: RelayEvent;
}

/** `skypay.payout.failure`, `skypay.finance.recharge`, `skyrelay.rejection`, `skyrelay.delivery.dead`. */
export function describeEnvelopeType(event: RelayEvent): string {
  if (event.source === 'skyrelay') return `skyrelay.${event.type}`;
  return event.type === 'finance' ? `skypay.finance.${event.signType}` : `skypay.payout.${event.status}`;
}

export function buildEnvelope(event: RelayEvent): WebhookEnvelope {
  return { type: describeEnvelopeType(event), timestamp: event.receivedAt, data: event };
}

/**
 * Configured headers first, then ours: set() replaces case-insensitively, so
 * config can never forge webhook-* or change the content type. The schema
 * refuses those names too; this holds for configs that skipped it.
 */
function buildHeaders(configured: Record<string, string> | undefined, signed: Record<string, string>): Headers {
  const headers = new Headers();
  headers.set('user-agent', getUserAgent());
  for (const [key, value] of Object.entries(configured ?? {})) headers.set(key, value);
  for (const [key, value] of Object.entries(signed)) headers.set(key, value);
  return headers;
}

export function createWebhookDestination(
  name: string,
  config: WebhookDestinationConfig,
  options: DestinationOptions,
): Destination {
  // standardwebhooks takes the secret with or without whsec_ and Base64-decodes the rest.
  const signer = new Webhook(config.secret);
  const secrets = secretsOfDestination(config);
  return {
    name,
    type: 'webhook',
    async send(request): Promise<DeliveryResult> {
      // Only the webhook-timestamp header (and so the signature) is per attempt; the body is the event's.
      const at = new Date();
      // Extra fields go out as the exact text SkyPay sent (JSON.stringify would round long numbers).
      const body = stringifyWith(buildEnvelope(request.event), { data: stringifyEvent(request.event) });
      const headers = buildHeaders(config.headers, {
        // The delivery id (one per event and destination) is stable across retries: receivers drop repeats by it.
        'webhook-id': request.deliveryId,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': signer.sign(request.deliveryId, at, body),
        'content-type': 'application/json',
      });
      const attempt = createAttemptSignal(request.signal, options.timeoutMs);
      let status: number;
      let response: string;
      let retryAfter: string | null;
      try {
        const answer = await fetch(config.url, {
          method: 'POST',
          headers,
          body,
          redirect: 'manual',
          signal: attempt.signal,
        });
        status = answer.status;
        retryAfter = answer.headers.get('retry-after');
        // Bounded, and under the same signal: a receiver trickling its body cannot hold us.
        response = maskSecrets(await readBodySnippet(answer), secrets);
      } catch (error) {
        const message = `Webhook destination ${name}: ${describeRequestFailure(error, options.timeoutMs, request.signal)}`;
        throw new RetryableDeliveryError(message, { cause: toSafeCause(error, secrets) });
      } finally {
        attempt.dispose();
      }
      const verdict = classifyHttpStatus(status);
      if (verdict === 'ok') return { status, response };
      const message = `Webhook destination ${name}: HTTP ${status}${response === '' ? '' : ` ${toOneLine(response, 200)}`}`;
      if (verdict === 'retryable') {
        throw new RetryableDeliveryError(message, { status, response, retryAfterMs: parseRetryAfter(retryAfter) });
      }
      throw new PermanentDeliveryError(message, { status, response });
    },
    async close(): Promise<void> {
      // fetch's connection pool is process-wide; nothing is held per destination.
    },
  };
}
