import { createHttpClient, type HttpClient } from '../http-client';
import { isRecord } from '../is-record';
import { decryptBody, deriveAesKey, encryptBody } from './crypto';
import { SUCCESS_CODE } from './reply';

/**
 * SkyPay's 7.1 status query (payoutQueryStatus), protocol only: the partner asks SkyPay for the status of up to 50
 * payouts by control number, in one encrypted POST, and reads an encrypted answer. No store and no schedule here:
 * the reconciler decides what to ask and when, and what the answers mean (src/payouts/queried-status.ts).
 */

export const STATUS_QUERY_ACTION = 'payoutQueryStatus';
/** SkyPay answers at most this many control numbers per call. */
export const MAX_CONTROL_NUMBERS = 50;
/** 50 items of a few hundred bytes each: anything far larger is not a status reply, and is not read on. */
const MAX_REPLY_BYTES = 1024 * 1024;
const CONTROL_NUMBER = /^[A-Za-z0-9]{13,15}$/;
/** `yyyy-MM-dd HH:mm:ss`, with the fraction SkyPay's table documents (`.fff`) and its samples leave out. */
const SKYPAY_TIME = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.\d{1,7})?$/;
/**
 * The most characters of a text SkyPay's answer carries (statusDesc, responseDescription, a responseCode) that are
 * kept: such a text is stored on a payout's timeline and logged with every failed query, and a 900 KB description
 * must not be written whole into every round's log line.
 */
export const MAX_ANSWER_TEXT = 256;
// C0 (newline and tab included), DEL and C1: shown as visible escapes, so a description cannot forge a log line.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** The configured partner's credentials the query is made with, and where it goes. */
export interface StatusQueryOptions {
  /** SkyPay's `https://api.skypay.ph/services/{callerName}` (or the test host). */
  url: string;
  userName: string;
  /** The partner's first authentication key. */
  authentication: string;
  /** The partner's first encrypt key (as configured; the AES key is derived from it). */
  encryptKey: string;
  timeoutMs: number;
}

/** One payout as SkyPay reported it. Numbers SkyPay may send as strings are numbers; absent times are "". */
export interface QueriedPayout {
  controlNumber: string;
  /** 0 Pending, 1 Completed, 2 Uploaded, 3 Cancelled, 4 Failed, 10 Inquiry Success, 11 Inquiry Failure. */
  status: number;
  statusDesc: string;
  /** `yyyy-MM-dd HH:mm:ss` in SkyPay's zone (a fraction dropped), or "". */
  transactionDate: string;
  payTime: string;
  cancelTime: string;
  /** A channel code; the sample sends the text "Bank". */
  withdrawChannel: string;
  referenceNo: string;
  traceNo: string;
}

/** An answer item that could not be read: reported, so the caller can log it, without losing the others. */
export interface UnreadableItem {
  index: number;
  controlNumber: string | undefined;
  reason: string;
}

export interface StatusQueryResult {
  responseTime: string;
  responseDescription: string;
  payouts: QueriedPayout[];
  /** Asked about but not in the answer (SkyPay does not document what it answers for an unknown control number). */
  missing: string[];
  unreadable: UnreadableItem[];
}

/** Why a status query gave no answer. One class per failure, all StatusQueryErrors. */
export class StatusQueryError extends Error {
  override name = 'StatusQueryError';
}

/** The query itself is wrong (no control numbers, more than 50, a malformed one): nothing was sent. */
export class StatusQueryRequestError extends StatusQueryError {
  override name = 'StatusQueryRequestError';
}

/** The request did not get an HTTP answer (refused, reset, DNS), or the answer was not a 2xx. */
export class StatusQueryTransportError extends StatusQueryError {
  override name = 'StatusQueryTransportError';
  constructor(
    message: string,
    /** A Node error code (ECONNREFUSED), when the connection failed. */
    readonly code?: string,
    /** The HTTP status, when there was an answer. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** No complete answer within timeoutMs. */
export class StatusQueryTimeoutError extends StatusQueryError {
  override name = 'StatusQueryTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`no answer from SkyPay's status query within ${timeoutMs} ms`);
  }
}

/** SkyPay answered with a code other than 1000 (-1032 IP not whitelisted, -9999 service not available, ...). */
export class StatusQueryRejectedError extends StatusQueryError {
  override name = 'StatusQueryRejectedError';
  constructor(
    readonly code: string,
    readonly description: string,
  ) {
    super(`SkyPay answered the status query with ${code}: ${description}`);
  }
}

/** The answer does not decrypt, is not JSON, or lacks what every answer has. */
export class StatusQueryUnreadableError extends StatusQueryError {
  override name = 'StatusQueryUnreadableError';
}

/** The plain JSON of a query, before encryption: what SkyPay's 7.1 table asks for. */
export function buildStatusQueryRequest(
  controlNumbers: readonly string[],
  credentials: { userName: string; authentication: string },
): string {
  const unique = [...new Set(controlNumbers)];
  if (unique.length === 0) throw new StatusQueryRequestError('a status query needs at least one control number');
  if (unique.length > MAX_CONTROL_NUMBERS) {
    throw new StatusQueryRequestError(
      `a status query takes at most ${MAX_CONTROL_NUMBERS} control numbers (got ${unique.length})`,
    );
  }
  const bad = unique.find((c) => !CONTROL_NUMBER.test(c));
  if (bad !== undefined) {
    throw new StatusQueryRequestError(`control number ${JSON.stringify(bad)} is not 13 to 15 letters or digits`);
  }
  return JSON.stringify({
    userName: credentials.userName,
    action: STATUS_QUERY_ACTION,
    authentication: credentials.authentication,
    controlNumbers: unique.map((controlNumber) => ({ controlNumber })),
  });
}

/**
 * Reads SkyPay's answer. A success (1000) must come encrypted under the partner's key: only SkyPay holds it, and
 * the answer may mark payouts paid. An error code may come as plain JSON too (a gateway refusing the caller's IP
 * need not encrypt), and is reported with its code. Pure.
 */
export function parseStatusQueryReply(
  body: string,
  aesKey: Buffer,
  asked: readonly string[],
): StatusQueryResult | StatusQueryRejectedError | StatusQueryUnreadableError {
  const plain = decryptBody(body, aesKey);
  const reply = parseObject(plain ?? body);
  if (!reply) {
    return new StatusQueryUnreadableError(
      plain === undefined
        ? `the answer (${Buffer.byteLength(body)} bytes) does not decrypt with the partner's key and is not JSON`
        : 'the decrypted answer is not a JSON object',
    );
  }
  const code = readClean(reply['responseCode']);
  if (code === undefined || code === '') return new StatusQueryUnreadableError('the answer has no responseCode');
  const description = readClean(reply['responseDescription']) ?? '';
  if (code !== SUCCESS_CODE) return new StatusQueryRejectedError(code, description);
  if (plain === undefined) {
    return new StatusQueryUnreadableError("a success answer must be encrypted under the partner's key; this was not");
  }
  const items = reply['controlNumbers'] ?? [];
  if (!Array.isArray(items)) return new StatusQueryUnreadableError('controlNumbers in the answer is not a list');
  const payouts: QueriedPayout[] = [];
  const unreadable: UnreadableItem[] = [];
  items.forEach((item: unknown, index) => {
    const read = readItem(item);
    if ('reason' in read) unreadable.push({ index, ...read });
    else payouts.push(read);
  });
  const answered = new Set(payouts.map((p) => p.controlNumber));
  for (const u of unreadable) if (u.controlNumber !== undefined) answered.add(u.controlNumber);
  return {
    responseTime: readClean(reply['responseTime']) ?? '',
    responseDescription: description,
    payouts,
    missing: [...new Set(asked)].filter((c) => !answered.has(c)),
    unreadable,
  };
}

function readItem(item: unknown): QueriedPayout | { controlNumber: string | undefined; reason: string } {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return { controlNumber: undefined, reason: 'not an object' };
  }
  const o = item as Record<string, unknown>;
  const controlNumber = readText(o['controlNumber']);
  if (!controlNumber) return { controlNumber: undefined, reason: 'no controlNumber' };
  const statusText = readText(o['status']);
  if (statusText === undefined || !/^-?\d{1,4}$/.test(statusText.trim())) {
    return { controlNumber, reason: 'status is not a number' };
  }
  const times: Record<'transactionDate' | 'payTime' | 'cancelTime', string> = {
    transactionDate: '',
    payTime: '',
    cancelTime: '',
  };
  for (const name of ['transactionDate', 'payTime', 'cancelTime'] as const) {
    const text = (readText(o[name]) ?? '').trim();
    if (text === '') continue;
    const m = SKYPAY_TIME.exec(text);
    if (!m?.[1]) return { controlNumber, reason: `${name} is not written yyyy-MM-dd HH:mm:ss` };
    times[name] = m[1];
  }
  return {
    controlNumber,
    status: Number(statusText),
    statusDesc: readClean(o['statusDesc']) ?? '',
    ...times,
    withdrawChannel: readClean(o['withdrawChannel']) ?? '',
    referenceNo: readClean(o['referenceNo']) ?? '',
    traceNo: readClean(o['traceNo']) ?? '',
  };
}

/** A text of the answer as it may be stored and logged: control characters escaped, at most MAX_ANSWER_TEXT. */
function readClean(value: unknown): string | undefined {
  const text = readText(value);
  return text === undefined ? undefined : cleanAnswerText(text);
}

/**
 * Control characters as visible escapes (`\n`, `\x1b`, `\u009b`), then cut to `max` characters with a note of
 * the original length. Pure; for any text SkyPay's answer carries that skyrelay keeps or logs.
 */
export function cleanAnswerText(text: string, max = MAX_ANSWER_TEXT): string {
  // Cut before escaping too: escaping a 900 KB text to keep 256 characters of it would be wasted work.
  const escaped = text.slice(0, max).replace(CONTROL, escapeControl);
  if (text.length <= max && escaped.length <= max) return escaped;
  const note = `… (${text.length} characters)`;
  let kept = escaped.slice(0, max - note.length);
  // Never half of a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1);
  return `${kept}${note}`;
}

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeControl(c: string): string {
  const code = c.charCodeAt(0);
  return (
    SHORT_ESCAPES[c] ??
    (code >= 0x80 ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`)
  );
}

/** Text as sent, numbers as their digits; absent and null are undefined; anything else is not text. */
function readText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** skypay.statusQuery and skypay.partners, as the validated config holds them. */
export interface StatusQuerySettings {
  statusQuery: { url?: string | undefined; partner?: string | undefined; timeoutMs: number };
  partners: readonly { userName: string; authentication: readonly string[]; encryptKeys: readonly string[] }[];
}

/**
 * The client skypay.statusQuery describes: its partner's userName, first authentication key and first encrypt key
 * (the convention is newest first). Undefined while the query is off (no url). The config loader has already
 * refused a missing or unknown partner and one without an encrypt key; this throws if called on one anyway.
 */
export function createStatusQueryClient(settings: StatusQuerySettings): StatusQueryClient | undefined {
  const { url, partner: name, timeoutMs } = settings.statusQuery;
  if (url === undefined) return undefined;
  const partner = settings.partners.find((p) => p.userName === name);
  const authentication = partner?.authentication[0];
  const encryptKey = partner?.encryptKeys[0];
  if (!partner || authentication === undefined || encryptKey === undefined) {
    throw new Error('skypay.statusQuery.partner must name a configured partner with an encrypt key');
  }
  return new StatusQueryClient({ url, userName: partner.userName, authentication, encryptKey, timeoutMs });
}

/** The client: one configured partner, one URL. Each query() is one POST; nothing is retried here. */
export class StatusQueryClient {
  private readonly aesKey: Buffer;
  private readonly http: HttpClient;

  constructor(private readonly options: StatusQueryOptions) {
    this.aesKey = deriveAesKey(options.encryptKey);
    // One deadline for the whole exchange: a server that trickles its answer cannot hold the query open.
    this.http = createHttpClient({
      timeoutMs: options.timeoutMs,
      keepBytes: MAX_REPLY_BYTES,
      readLimitBytes: MAX_REPLY_BYTES + 1,
    });
  }

  /**
   * Asks SkyPay about up to 50 control numbers. Resolves the answer; rejects only with a StatusQueryError
   * (request, transport, timeout, rejected, unreadable). The authentication key travels encrypted and appears in
   * no error.
   */
  async query(controlNumbers: readonly string[]): Promise<StatusQueryResult> {
    const plain = buildStatusQueryRequest(controlNumbers, this.options);
    const body = encryptBody(plain, this.aesKey);
    const reply = await this.post(body);
    const result = parseStatusQueryReply(reply, this.aesKey, controlNumbers);
    if (result instanceof StatusQueryError) throw result;
    return result;
  }

  /** Drops the pooled connection to SkyPay. */
  close(): Promise<void> {
    return this.http.close();
  }

  private async post(body: string): Promise<string> {
    let answer;
    try {
      answer = await this.http.post(
        this.options.url,
        { 'content-type': 'text/plain; charset=utf-8', accept: 'text/plain, application/json' },
        body,
      );
    } catch (err) {
      if (isRecord(err) && err['name'] === 'TimeoutError') throw new StatusQueryTimeoutError(this.options.timeoutMs);
      throw transportError(err);
    }
    if (answer.status < 200 || answer.status > 299) {
      throw new StatusQueryTransportError(
        `SkyPay's status query answered HTTP ${answer.status}`,
        undefined,
        answer.status,
      );
    }
    if (answer.bytes > MAX_REPLY_BYTES) {
      throw new StatusQueryUnreadableError(`the answer is larger than ${MAX_REPLY_BYTES} bytes`);
    }
    return answer.body;
  }
}

function transportError(err: unknown): StatusQueryTransportError {
  const code = isRecord(err) && typeof err['code'] === 'string' ? err['code'] : undefined;
  const message = err instanceof Error ? err.message : String(err);
  return new StatusQueryTransportError(
    `SkyPay's status query failed: ${code ?? 'connection error'} (${message})`,
    code,
  );
}
