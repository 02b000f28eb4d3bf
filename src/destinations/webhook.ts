import { secretLookaheadBytes } from '../scrub';
import { publicTypeOf, type RelayEvent } from '../event';
import { stringifyEvent } from '../event-json';
import { createHttpClient } from '../http-client';
import { describeRequestFailure } from './request-failure';
import { getUserAgent } from './user-agent';
import type { DestinationOptions } from './options';
import { toOneLine } from './present';
import { classifyHttpStatus } from './status';
import { parseRetryAfter } from './retry-after';
import type { WebhookDestinationConfig } from './schema';
import { secretsToScrub, toSafeCause } from './secrets';
import { createWebhookSigner } from './signing';
import { scrubSnippet } from './snippet';
import { PermanentDeliveryError, RESPONSE_SNIPPET_BYTES, RetryableDeliveryError } from './types';
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
  return publicTypeOf(event);
}

export function buildEnvelope(event: RelayEvent): WebhookEnvelope {
  return { type: describeEnvelopeType(event), timestamp: event.receivedAt, data: event };
}

/**
 * The body: JSON.stringify(buildEnvelope(event)) in its members' order, with extra fields as the exact text SkyPay
 * sent (JSON.stringify would round long numbers). Written out rather than walked member by member: it is built
 * on every attempt.
 */
export function writeEnvelope(event: RelayEvent): string {
  const type = JSON.stringify(describeEnvelopeType(event));
  return `{"type":${type},"timestamp":${JSON.stringify(event.receivedAt)},"data":${stringifyEvent(event)}}`;
}

/**
 * Configured headers first, then ours, all names lower-cased so ours replace
 * any spelling of the same name: config can never forge webhook-* or change
 * the content type. The schema refuses those names too; this holds for
 * configs that skipped it.
 */
function buildHeaders(
  configured: Readonly<Record<string, string>>,
  signed: Record<string, string>,
): Record<string, string> {
  return { 'user-agent': getUserAgent(), ...configured, ...signed };
}

function lowerCaseNames(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([key, value]) => [key.toLowerCase(), value]));
}

export function createWebhookDestination(
  name: string,
  config: WebhookDestinationConfig,
  options: DestinationOptions,
): Destination {
  const signer = createWebhookSigner(config);
  const now = options.now ?? Date.now;
  const secrets = secretsToScrub(config, options.secrets);
  const configuredHeaders = lowerCaseNames(config.headers);
  // One pool per destination; the worker bounds its sends in flight (maxInFlight), and so its connections. The
  // answer is kept past the recorded cut by the longest form of a secret, so one crossing the cut is masked whole.
  const client = createHttpClient({
    timeoutMs: options.timeoutMs,
    keepBytes: RESPONSE_SNIPPET_BYTES + secretLookaheadBytes(secrets),
  });
  return {
    name,
    type: 'webhook',
    async send(request): Promise<DeliveryResult> {
      const body = writeEnvelope(request.event);
      const headers = buildHeaders(configuredHeaders, {
        // The delivery id (one per event and destination) is stable across retries: receivers drop repeats by it.
        'webhook-id': request.deliveryId,
        // Only the timestamp, and so the signatures, are per attempt (the body is the event's); which secrets
        // sign is decided from this attempt's clock, so an expired one drops out without a restart.
        ...signer.sign(request.deliveryId, body, now()),
        'content-type': 'application/json',
      });
      let status: number;
      let response: string;
      let retryAfter: string | null;
      try {
        // Bounded by the client's deadline (timeoutMs, connect to last byte) and the worker's signal.
        const answer = await client.post(config.url, headers, body, request.signal);
        status = answer.status;
        const header = answer.headers['retry-after'];
        retryAfter = typeof header === 'string' ? header : null;
        response = scrubSnippet(answer.body, secrets);
      } catch (error) {
        const message = `Webhook destination ${name}: ${describeRequestFailure(error, options.timeoutMs, request.signal)}`;
        throw new RetryableDeliveryError(message, { cause: toSafeCause(error, secrets) });
      }
      const verdict = classifyHttpStatus(status);
      if (verdict === 'ok') return { status, response };
      const message = `Webhook destination ${name}: HTTP ${status}${response === '' ? '' : ` ${toOneLine(response, 200)}`}`;
      if (verdict === 'retryable') {
        throw new RetryableDeliveryError(message, { status, response, retryAfterMs: parseRetryAfter(retryAfter) });
      }
      throw new PermanentDeliveryError(message, { status, response });
    },
    close: () => client.close(),
  };
}
