import { isIP } from 'node:net';
import type Koa from 'koa';
import { createFlatLogger, type Logger } from '../log';
import { createId } from '../ids';
import { scrubSenderText } from '../skypay/scrub';
import type { IngestStore } from '../store/store';
import type { NewRejection, CallbackOutcome } from './types';
import { rejected, type CallbackResult, type Rejected } from './receive';
import { StorageRejectionError } from './rejections';
import { cutUtf8 } from './truncate';

/** What a route on the callback path leaves for the answer middleware. */
export interface IngestState {
  callback?: CallbackResult;
}

export interface AnswerDeps {
  store: IngestStore;
  logger: Logger;
  offsetMinutes: number;
  /** Every configured secret: masked out of anything kept or logged. */
  secrets: readonly string[];
  /** Whether this rejection is kept as a row; the rest are only counted (see RejectionKeeper). Default: all. */
  keep?: (rejection: NewRejection) => boolean | Promise<boolean>;
  /** Told of every rejection, kept or only counted, after it is recorded (metrics, rejection alerts). */
  onRejected?: (rejection: NewRejection) => void;
  /** Told of every callback's outcome (metrics). */
  onOutcome?: (outcome: CallbackOutcome, ms: number) => void;
}

/** The metric's label values: `refused:` stays, since dashboards and alerts on skyrelay_callbacks_total use it. */

/**
 * The one place a callback's result becomes the HTTP answer, the log line
 * and (when rejected) a kept row. No rejection carries 1000; none is a 500
 * unless skyrelay itself is broken, and even then the body is kept.
 */
export function answerCallback(deps: AnswerDeps): Koa.Middleware<IngestState> {
  // One line per accepted callback, from CallbackFacts only (flat, no sender text): the hottest log line.
  const acceptedLogger = createFlatLogger(deps.logger);
  return async (ctx, next) => {
    const started = performance.now();
    let result: CallbackResult;
    try {
      await next();
      result = ctx.state.callback ?? rejected(new Error('no route left a callback result'), deps.offsetMinutes);
    } catch (err) {
      result = rejected(err, deps.offsetMinutes);
    }
    ctx.status = result.answer.status;
    ctx.type = result.answer.type;
    ctx.body = result.answer.body;
    if (result.outcome !== 'rejected') {
      const ms = elapsed(started);
      deps.onOutcome?.(result.outcome, ms);
      // Acknowledged, since it is kept, but a copy that contradicts the first one needs a person.
      const log = { outcome: result.outcome, ...result.facts, ms };
      if (result.outcome === 'conflict') deps.logger.warn(log, 'callback conflicts with an earlier copy');
      else acceptedLogger.info(log, 'callback');
      return;
    }
    if (result.status === 405) ctx.set('Allow', 'POST');
    // The rest of an unread body is not worth reading, and its sender must not keep the socket.
    if (result.rejection?.closesConnection) ctx.res.shouldKeepAlive = false;
    await recordRejection(ctx, result, started, deps);
  };
}

async function recordRejection(ctx: Koa.Context, result: Rejected, started: number, deps: AnswerDeps): Promise<void> {
  const { rejection, facts } = result;
  const row = describeRejection(ctx, result, facts.partner ?? rejection?.partner, deps);
  const ms = elapsed(started);
  deps.onOutcome?.(`refused:${result.reason}`, ms);
  // The database's code (SQLITE_BUSY...) is for operators: logged here, never in the reply.
  const storeFailed = rejection instanceof StorageRejectionError;
  const code = storeFailed ? rejection.code : undefined;
  const record = async (): Promise<void> => {
    // May ask the store for room (the rows every process may keep this minute).
    const kept = (await deps.keep?.(row)) ?? true;
    const log = {
      // "refused" is what log searches and the tests match on; the code's word for it is "rejection".
      outcome: 'refused',
      reason: result.reason,
      status: result.status,
      description: result.description,
      ...(code ? { code } : {}),
      ...facts,
      remoteAddress: row.remoteAddress,
      ms,
      ...(kept ? {} : { kept: false }),
    };
    if (rejection) deps.logger.warn(log, 'callback');
    else deps.logger.error({ ...log, err: maskError(result.cause, deps.secrets) }, 'callback');
    try {
      if (kept) await deps.store.saveRejection(withBody(row, result.rawBody, deps.secrets));
    } catch (storeErr) {
      deps.logger.error(
        { err: maskError(storeErr, deps.secrets), rejectionId: row.id },
        'could not keep rejected callback',
      );
      return;
    }
    // One only counted (a flood) is still told on, so alerts and their folded counts see every rejection.
    deps.onRejected?.(row);
  };
  const recorded = record();
  // A store that could not take the callback would hold its 503 for another busyTimeoutMs too: answer now.
  if (!storeFailed) await recorded;
}

/** What is kept of a sender's text: enough to see what it was, never enough to fill the disk. */
export const KEPT_BODY_BYTES = 2048;
export const KEPT_HEADER_BYTES = 256;

function describeRejection(
  ctx: Koa.Context,
  result: Rejected,
  partner: string | undefined,
  deps: AnswerDeps,
): NewRejection {
  const contentType = cutUtf8(ctx.get('content-type'), KEPT_HEADER_BYTES);
  return {
    id: createId('rej'),
    receivedAt: new Date(),
    remoteAddress: describeAddress(ctx.ip),
    method: ctx.method,
    path: cutUtf8(ctx.path, KEPT_HEADER_BYTES).text,
    contentType: contentType.text || undefined,
    contentTypeBytes: contentType.bytes || undefined,
    status: result.status,
    reason: result.reason,
    description: result.description,
    partner: partner === undefined ? undefined : scrubSenderText(partner, deps.secrets),
    body: undefined,
  };
}

/**
 * Under server.trustProxy the address is the client's own X-Forwarded-For text: it reaches logs and alerts
 * (and keys the rows kept per address) only when it is an IP address, else only its size does.
 */
function describeAddress(ip: string): string | undefined {
  if (ip === '') return undefined;
  return isIP(ip) !== 0 ? ip : `not an IP address, ${Buffer.byteLength(ip)} bytes`;
}

/** Only for a row that is kept: masking reads the whole body. Masked first, so no secret is cut in half and kept. */
function withBody(row: NewRejection, raw: string | undefined, secrets: readonly string[]): NewRejection {
  if (raw === undefined) return row;
  const body = cutUtf8(scrubSenderText(raw, secrets), KEPT_BODY_BYTES).text;
  return { ...row, body, bodyBytes: Buffer.byteLength(raw) };
}

function maskError(err: unknown, secrets: readonly string[]): { message: string; stack?: string } {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    message: scrubSenderText(e.message, secrets),
    ...(e.stack ? { stack: scrubSenderText(e.stack, secrets) } : {}),
  };
}

const elapsed = (started: number): number => Math.round((performance.now() - started) * 100) / 100;
