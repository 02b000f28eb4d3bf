import { secretLookaheadBytes } from '../scrub';
import { IncomingWebhook, IncomingWebhookHTTPError } from '@slack/webhook';
import type { FetchFunction, IncomingWebhookSendArguments } from '@slack/webhook';
import { STATUS_CODES } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { isGroupEvent, type GroupEvent, type RelayEvent, type SystemEvent } from '../event';
import {
  describeGroupBy,
  describeGroupHeadline,
  describeMember,
  describeMore,
  describeUnnamed,
  listMoreNames,
} from './group-present';
import { describeRequestFailure } from './request-failure';
import { createHttpClient, type HttpClient } from '../http-client';
import { scrubSnippet } from './snippet';
import { escapeMrkdwn, escapeMrkdwnWithin } from './mrkdwn';
import type { DestinationOptions } from './options';
import {
  EMPTY_VALUE,
  describeHeadline,
  describeReason,
  eventPageUrl,
  formatAmount,
  formatValue,
  isLedgerDaily,
  ledgerPageUrl,
  listKeyFinanceFields,
  listKeyPayoutFields,
  listLedgerRows,
  toOneLine,
} from './present';
import type { Field } from './present';
import { classifyHttpStatus } from './status';
import { parseRetryAfter } from './retry-after';
import type { SlackDestinationConfig } from './schema';
import { secretsToScrub, toSafeCause } from './secrets';
import { PermanentDeliveryError, RESPONSE_SNIPPET_BYTES, RetryableDeliveryError } from './types';
import type { DeliveryError, DeliveryResult, Destination } from './types';

type SlackBlock = NonNullable<IncomingWebhookSendArguments['blocks']>[number];

// Block Kit limits: header text 150 chars, 10 fields per section, 2000 chars per field. Slack asks for
// `text` of at most 3,000 characters (and truncates far longer ones mid-entity).
const HEADER_MAX = 150;
const MAX_FIELDS = 10;
const FIELD_MAX = 2000;
const TEXT_MAX = 3000;
/** Our own ids (evt_…, dlv_…) are shown raw so they copy into the CLI; anything else is escaped. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,100}$/;

const showId = (id: string): string => (SAFE_ID.test(id) ? id : escapeMrkdwnWithin(id, 100));

function capFields(fields: Field[]): Field[] {
  if (fields.length <= MAX_FIELDS) return fields;
  const kept = fields.slice(0, MAX_FIELDS - 1);
  return [...kept, ['More', `${fields.length - kept.length} more fields not shown`]];
}

function listFields(event: RelayEvent, timezone: string | undefined): Field[] {
  if (event.source === 'skypay') {
    return event.type === 'finance' ? listKeyFinanceFields(event, timezone) : listKeyPayoutFields(event, timezone);
  }
  return capFields(Object.entries(event.data).map(([key, value]): Field => [key, formatValue(value)]));
}

/** The plain text Slack shows in notifications and where blocks cannot render. */
export function describeFallback(event: RelayEvent): string {
  const headline = describeHeadline(event);
  if (event.source === 'skypay' && event.type === 'finance') {
    const what = `${formatAmount(event)} on account ${event.accountNo}, reference ${event.referenceNumber}`;
    return escapeMrkdwnWithin(`${headline} — ${what}`, TEXT_MAX);
  }
  if (event.source === 'skypay') {
    const description = event.failDescription ?? EMPTY_VALUE;
    const controlNumber = formatValue(event.controlNumber);
    return escapeMrkdwnWithin(`${headline} — ${controlNumber} (${event.status}): ${description}`, TEXT_MAX);
  }
  const reason = describeReason(event);
  return escapeMrkdwnWithin(reason === undefined ? headline : `${headline}: ${reason}`, TEXT_MAX);
}

/** Names joined by ", " into texts of at most TEXT_MAX characters each (a name is at most 60, escaped ~300). */
function chunkNames(names: readonly string[]): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const name of names) {
    const next = current === '' ? name : `${current}, ${name}`;
    if (next.length > TEXT_MAX - 10 && current !== '') {
      chunks.push(current);
      current = name;
    } else current = next;
  }
  if (current !== '') chunks.push(current);
  return chunks;
}

/**
 * A group message: the count per status (header), what the members share, one line per listed member, and
 * "and N more". Members' text is the sender's, so every piece is escaped; the list stays within Slack's 3,000.
 */
export function buildSlackGroupMessage(
  event: GroupEvent,
  deliveryId: string,
  timezone?: string,
): IncomingWebhookSendArguments {
  const headline = describeGroupHeadline(event);
  const lines = event.group.listed.map((line) => {
    const m = describeMember(line, timezone);
    return escapeMrkdwnWithin(`${m.controlNumber} · ${m.dealTime} · ${m.status} · ${m.failDescription}`, 130);
  });
  const more = describeMore(event);
  // 20 lines of at most 132 characters and the "more" line stay under the 3,000 a section takes.
  const list = [...lines.map((l) => `• ${l}`), ...(more === undefined ? [] : [`${escapeMrkdwn(more)}:`])].join('\n');
  const unnamed = describeUnnamed(event);
  const names = [...chunkNames(listMoreNames(event).map(escapeMrkdwn)), ...(unnamed ? [escapeMrkdwn(unnamed)] : [])];
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: toOneLine(headline, HEADER_MAX) } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `*Group*\n${escapeMrkdwnWithin(describeGroupBy(event), FIELD_MAX - 8)}` },
    },
    { type: 'section', text: { type: 'mrkdwn', text: list } },
    ...names.map((text): SlackBlock => ({ type: 'section', text: { type: 'mrkdwn', text } })),
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `Group message ${showId(event.id)} · Delivery ${showId(deliveryId)}` }],
    },
  ];
  return { text: escapeMrkdwnWithin(`${headline} (${describeGroupBy(event)})`, TEXT_MAX), blocks };
}

/**
 * A message readable at a glance: what happened (header), to what (fields), and ids to trace it.
 * Every value may hold a sender's text, so each is escaped and capped within Slack's limits.
 */
export function buildSlackMessage(
  event: RelayEvent,
  deliveryId: string,
  /** skypay.timezone, the clock of the deal time shown. */
  timezone?: string,
  /** ui.publicUrl: the message links to the event's dashboard page. */
  publicUrl?: string,
): IncomingWebhookSendArguments {
  if (isGroupEvent(event)) return buildSlackGroupMessage(event, deliveryId, timezone);
  if (isLedgerDaily(event)) return buildSlackLedgerMessage(event, deliveryId, publicUrl);
  const page = eventPageUrl(publicUrl, event.id);
  // Slack reads `<url|text>`: an encoded id leaves no `|` or `>` that could end the link early.
  const link = page === undefined ? '' : ` · <${page.replace(/[|<>]/g, encodeURIComponent)}|Open in dashboard>`;
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: toOneLine(describeHeadline(event), HEADER_MAX) } },
    {
      type: 'section',
      fields: listFields(event, timezone).map(([label, value]) => {
        const title = `*${escapeMrkdwnWithin(label, 100)}*\n`;
        return { type: 'mrkdwn' as const, text: `${title}${escapeMrkdwnWithin(value, FIELD_MAX - title.length)}` };
      }),
    },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `Event ${showId(event.id)} · Delivery ${showId(deliveryId)}${link}` }],
    },
  ];
  return { text: describeFallback(event), blocks };
}

/** The daily ledger: its verdict (header), a short table in a code block, and a link to the day's Ledger page. */
function buildSlackLedgerMessage(
  event: SystemEvent,
  deliveryId: string,
  publicUrl: string | undefined,
): IncomingWebhookSendArguments {
  const rows = listLedgerRows(event);
  const width = Math.max(...rows.map(([label]) => label.length));
  const table = rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
  const page = ledgerPageUrl(publicUrl, event);
  const link = page === undefined ? '' : ` · <${page.replace(/[|<>]/g, encodeURIComponent)}|Open the ledger>`;
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: toOneLine(describeHeadline(event), HEADER_MAX) } },
    { type: 'section', text: { type: 'mrkdwn', text: `\`\`\`\n${escapeMrkdwnWithin(table, FIELD_MAX)}\n\`\`\`` } },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `Event ${showId(event.id)} · Delivery ${showId(deliveryId)}${link}` }],
    },
  ];
  return { text: describeFallback(event), blocks };
}

/** The headers view of @slack/webhook's FetchResponse (the package does not export the type by name). */
type FetchHeaders = Awaited<ReturnType<FetchFunction>>['headers'];

interface Answer {
  status?: number;
  headers?: FetchHeaders;
}

/** node:http's header record as the small read-only view @slack/webhook's FetchResponse asks for. */
function toFetchHeaders(headers: IncomingHttpHeaders): FetchHeaders {
  const flat = (value: string | string[] | undefined): string | null =>
    value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  return {
    get: (name) => flat(headers[name.toLowerCase()]),
    entries: () =>
      Object.entries(headers).flatMap(([key, value]): [string, string][] => {
        const text = flat(value);
        return text === null ? [] : [[key, text]];
      }),
  };
}

/**
 * IncomingWebhook takes any fetch-shaped function (its documented `fetch`
 * option), so its sends go through the destination's pooled keep-alive
 * client (src/http-client.ts) instead of fetch. This one records the answer (for
 * Retry-After), keeps redirects visible as 3xx, and bounds how much body is
 * read. The client's deadline (timeoutMs) and the worker's signal bound it,
 * instead of the library's AbortSignal.timeout.
 */
function createRecordingFetch(client: HttpClient, signal: AbortSignal, answer: Answer): FetchFunction {
  return async (url, init) => {
    if (typeof init?.body !== 'string') throw new TypeError('Slack messages are sent as JSON text');
    const response = await client.post(String(url), init.headers ?? {}, init.body, signal);
    answer.status = response.status;
    answer.headers = toFetchHeaders(response.headers);
    const text = response.body;
    return {
      ok: response.status >= 200 && response.status < 300,
      status: response.status,
      statusText: STATUS_CODES[response.status] ?? '',
      url: String(url),
      headers: answer.headers,
      text: async () => text,
      json: async (): Promise<unknown> => JSON.parse(text),
      arrayBuffer: async () => new TextEncoder().encode(text).buffer,
    };
  };
}

interface FailureContext {
  name: string;
  timeoutMs: number;
  signal: AbortSignal;
  secrets: readonly string[];
}

function toDeliveryError(
  error: unknown,
  answer: Answer,
  { name, timeoutMs, signal, secrets }: FailureContext,
): DeliveryError {
  const cause = toSafeCause(error, secrets);
  if (error instanceof IncomingWebhookHTTPError) {
    const status = error.statusCode;
    // Slack says why in the body: invalid_token, no_service, channel_not_found, invalid_payload...
    const response = scrubSnippet(error.body, secrets);
    const message = `Slack destination ${name}: HTTP ${status}${response === '' ? '' : ` ${toOneLine(response, 200)}`}`;
    if (classifyHttpStatus(status) === 'retryable') {
      const retryAfterMs = parseRetryAfter(answer.headers?.get('retry-after'));
      return new RetryableDeliveryError(message, { status, response, retryAfterMs, cause });
    }
    return new PermanentDeliveryError(message, { status, response, cause });
  }
  // No answer at all (refused, reset, DNS, timeout, abort): another try may reach Slack.
  return new RetryableDeliveryError(`Slack destination ${name}: ${describeRequestFailure(error, timeoutMs, signal)}`, {
    cause,
  });
}

export function createSlackDestination(
  name: string,
  config: SlackDestinationConfig,
  options: DestinationOptions,
): Destination {
  // The hook URL is the credential: keep it (and every other configured secret) out of everything we report.
  const secrets = secretsToScrub(config, options.secrets);
  const client = createHttpClient({
    timeoutMs: options.timeoutMs,
    keepBytes: RESPONSE_SNIPPET_BYTES + secretLookaheadBytes(secrets),
  });
  return {
    name,
    type: 'slack',
    async send(request): Promise<DeliveryResult> {
      const answer: Answer = {};
      const webhook = new IncomingWebhook(config.url, {
        // The outbox worker owns retries and backoff; the library must try once.
        retryConfig: { retries: 0 },
        fetch: createRecordingFetch(client, request.signal, answer),
      });
      try {
        const result = await webhook.send(
          buildSlackMessage(request.event, request.deliveryId, options.timezone, options.publicUrl),
        );
        return { status: answer.status ?? 200, response: scrubSnippet(result.text, secrets) };
      } catch (error) {
        throw toDeliveryError(error, answer, { name, timeoutMs: options.timeoutMs, signal: request.signal, secrets });
      }
    },
    close: () => client.close(),
  };
}
