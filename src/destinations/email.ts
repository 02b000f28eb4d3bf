import { scrubSecrets } from '../scrub';
import { createTransport } from 'nodemailer';
import type { SMTPTransportOptions, SentMessageInfo } from 'nodemailer';
import { buildEmailContent, buildMessageId } from './email-content';
import { createAttemptSignal, raceAbort } from './attempt-signal';
import { describeRequestFailure, isAbortOrTimeout } from './request-failure';
import { isRecord } from '../is-record';
import type { DestinationOptions } from './options';
import { toOneLine } from './present';
import { scrubSnippet } from './snippet';
import { DEFAULT_SUBJECT_PREFIX } from './schema';
import type { EmailDestinationConfig } from './schema';
import { secretsToScrub, toSafeCause } from './secrets';
import { PermanentDeliveryError, RetryableDeliveryError } from './types';
import type { DeliveryError, DeliveryResult, Destination } from './types';

/**
 * Nodemailer codes for mistakes in our config or message that another try
 * repeats exactly. Connection codes (ECONNECTION, ETIMEDOUT, ESOCKET, EDNS,
 * ETLS, EPROXY, EABORT...) and unknown ones stay retryable.
 */
const PERMANENT_CODES = new Set([
  'EAUTH',
  'ENOAUTH',
  'EOAUTH2',
  'ECONFIG',
  'EENVELOPE',
  'EMESSAGE',
  'EMAXRECIPIENTS',
  'EREQUIRETLS',
]);

function readString(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The attempt's deadline bounds every stage of the SMTP conversation; ours
 * win over the configured ones because the worker's timeout is the contract.
 */
function buildTransportOptions(
  transport: EmailDestinationConfig['transport'],
  timeoutMs: number,
): SMTPTransportOptions {
  const timeouts = { connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs };
  // The schema only checks "an object": nodemailer validates its own options.
  return typeof transport === 'string'
    ? { url: transport, ...timeouts }
    : { ...(transport as SMTPTransportOptions), ...timeouts };
}

/**
 * RFC 5321: 5yz is a permanent refusal and 4yz a transient one. 503 (bad
 * sequence of commands) is the exception nodemailer also makes: it is about
 * the session's state, and a new connection can succeed.
 */
export function isPermanentSmtpCode(responseCode: number): boolean {
  return responseCode >= 500 && responseCode <= 599 && responseCode !== 503;
}

function toDeliveryError(
  name: string,
  error: unknown,
  timeoutMs: number,
  signal: AbortSignal,
  secrets: readonly string[],
): DeliveryError {
  const cause = toSafeCause(error, secrets);
  const fields = isRecord(error) ? error : {};
  const responseCode = typeof fields['responseCode'] === 'number' ? fields['responseCode'] : undefined;
  const code = readString(fields, 'code');
  const rawResponse = readString(fields, 'response');
  const response = rawResponse === undefined ? undefined : scrubSnippet(rawResponse, secrets);
  if (responseCode !== undefined) {
    const command = readString(fields, 'command');
    const message = `Email destination ${name}: SMTP ${command === undefined ? '' : `${command} `}refused: ${toOneLine(response ?? String(responseCode), 300)}`;
    const details = { status: responseCode, response, cause };
    return isPermanentSmtpCode(responseCode)
      ? new PermanentDeliveryError(message, details)
      : new RetryableDeliveryError(message, details);
  }
  const ended = signal.aborted || isAbortOrTimeout(error);
  const detail = ended
    ? describeRequestFailure(error, timeoutMs, signal)
    : `${code ?? 'error'}: ${scrubSecrets(readString(fields, 'message') ?? String(error), secrets)}`;
  const message = `Email destination ${name}: ${toOneLine(detail, 300)}`;
  // Config and message mistakes repeat exactly; anything else (dropped connections, timeouts, the unknown) may pass later.
  return code !== undefined && PERMANENT_CODES.has(code) && !ended
    ? new PermanentDeliveryError(message, { cause })
    : new RetryableDeliveryError(message, { cause });
}

/** The server's acceptance (`250 OK: queued as ...`): status is the SMTP code, not HTTP. */
function readSmtpStatus(info: SentMessageInfo, secrets: readonly string[]): DeliveryResult {
  const response = isRecord(info) ? readString(info, 'response') : undefined;
  if (response === undefined) return {};
  const code = /^(\d{3})/.exec(response)?.[1];
  return {
    status: code === undefined ? undefined : Number(code),
    response: scrubSnippet(response, secrets),
  };
}

export function createEmailDestination(
  name: string,
  config: EmailDestinationConfig,
  options: DestinationOptions,
): Destination {
  const secrets = secretsToScrub(config, options.secrets);
  const transporter = createTransport(buildTransportOptions(config.transport, options.timeoutMs));
  const subjectPrefix = config.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
  return {
    name,
    type: 'email',
    async send(request): Promise<DeliveryResult> {
      const { event, deliveryId } = request;
      const content = buildEmailContent(event, {
        deliveryId,
        rules: request.rules,
        subjectPrefix,
        timezone: options.timezone,
        publicUrl: options.publicUrl,
      });
      const attempt = createAttemptSignal(request.signal, options.timeoutMs);
      const { signal } = attempt;
      try {
        const sending = transporter.sendMail({
          from: config.from,
          to: config.to,
          cc: config.cc,
          ...content,
          messageId: buildMessageId(deliveryId, config.from),
          headers: { 'X-Skyrelay-Delivery-Id': deliveryId, 'X-Skyrelay-Event-Id': event.id },
          signal,
        });
        const info = await raceAbort(sending, signal);
        const rejected = isRecord(info) && Array.isArray(info['rejected']) ? info['rejected'].length : 0;
        if (rejected > 0)
          options.logger?.warn({ destination: name, deliveryId, rejected }, 'mail accepted for some recipients only');
        return readSmtpStatus(info, secrets);
      } catch (error) {
        throw toDeliveryError(name, error, options.timeoutMs, request.signal, secrets);
      } finally {
        attempt.dispose();
      }
    },
    async close(): Promise<void> {
      transporter.close();
    },
  };
}
