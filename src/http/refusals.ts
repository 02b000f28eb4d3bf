import { isIP } from 'node:net';
import type Koa from 'koa';
import type { Logger } from 'pino';
import {
  MalformedBodyError,
  PayloadTooLargeError,
  RefusalError,
  StorageUnavailableError,
  UnsupportedMediaTypeError,
  type RefusalReason,
} from '../errors';
import { createId } from '../ids';
import { PROTO_KEY_REFUSAL } from '../skypay/body-shape';
import { maskSecrets } from '../skypay/mask';
import { cutUtf8 } from './truncate';
import type { CallbackState } from '../skypay/receive';
import { buildReply, encodeReply } from '../skypay/reply';
import { StoreUnavailableError } from '../store/errors';
import type { IngestStore } from '../store/store';
import type { NewRejection } from '../store/types';

export interface RefusalDeps {
  store: IngestStore;
  logger: Logger;
  offsetMinutes: number;
  /** Every configured secret: masked out of anything kept or logged. */
  secrets: readonly string[];
  /** Whether this refusal is kept as a row; the rest are only counted (see RejectionKeeper). Default: all. */
  keep?: (rejection: NewRejection) => boolean;
  /** Told of every refusal, kept or only counted, after it is recorded (metrics, rejection alerts). */
  onRefused?: (rejection: NewRejection) => void;
  /** Told of every callback's outcome (metrics). */
  onOutcome?: (outcome: CallbackOutcome, ms: number) => void;
}

export type CallbackOutcome = 'accepted' | 'duplicate' | 'conflict' | `refused:${RefusalReason | 'internal'}`;

/**
 * The one place a callback's fate is mapped to HTTP, logged, and (when
 * refused) kept. No refusal carries 1000; none is a 500 unless skyrelay
 * itself is broken, and even then the body is kept.
 */
export function handleCallbackOutcome(deps: RefusalDeps): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
      const state = ctx.state.callback as CallbackState | undefined;
      const outcome: CallbackOutcome = state?.conflict ? 'conflict' : state?.duplicate ? 'duplicate' : 'accepted';
      const ms = elapsed(started);
      deps.onOutcome?.(outcome, ms);
      // Acknowledged, since it is kept, but a copy that contradicts the first one needs a person.
      const log = { outcome, ...state, ms };
      if (outcome === 'conflict') deps.logger.warn(log, 'callback conflicts with an earlier copy');
      else deps.logger.info(log, 'callback');
    } catch (err) {
      const refusal = toRefusal(err);
      const status = refusal?.status ?? 500;
      const reason = refusal?.reason ?? 'internal';
      const description = refusal ? refusal.message : 'internal error; the callback was kept for inspection';
      const reply = encodeReply(buildReply(String(status), description, deps.offsetMinutes), refusal?.replyKey);
      ctx.status = status;
      if (status === 405) ctx.set('Allow', 'POST');
      // The rest of an unread body is not worth reading, and its sender must not keep the socket.
      if (refusal?.closesConnection) ctx.res.shouldKeepAlive = false;
      ctx.type = reply.type;
      ctx.body = reply.body;
      const state = (ctx.state.callback ?? {}) as CallbackState;
      const rejection = describeRejection(ctx, status, reason, description, state.partner ?? refusal?.partner, deps);
      const kept = deps.keep?.(rejection) ?? true;
      const ms = elapsed(started);
      deps.onOutcome?.(`refused:${reason}`, ms);
      // The database's code (SQLITE_BUSY...) is for operators: logged here, never in the reply.
      const code = err instanceof StoreUnavailableError ? err.code : undefined;
      const log = {
        outcome: 'refused',
        reason,
        status,
        description,
        ...(code ? { code } : {}),
        ...state,
        remoteAddress: rejection.remoteAddress,
        ms,
        ...(kept ? {} : { kept: false }),
      };
      if (refusal) deps.logger.warn(log, 'callback');
      else deps.logger.error({ ...log, err: maskError(err, deps.secrets) }, 'callback');
      // One only counted (a flood) is still told on, so alerts and their folded counts see every refusal.
      const saved = kept ? deps.store.saveRejection(withBody(rejection, ctx, err, deps.secrets)) : Promise.resolve();
      const keep = saved.then(
        () => deps.onRefused?.(rejection),
        (storeErr: unknown) => {
          deps.logger.error(
            { err: maskError(storeErr, deps.secrets), rejectionId: rejection.id },
            'could not keep refused callback',
          );
        },
      );
      // A store that could not take the callback would hold its 503 for another busyTimeoutMs too: answer now.
      if (!(err instanceof StoreUnavailableError)) await keep;
    }
  };
}

/** Maps bodyparser/raw-body errors (by their status) onto our refusal classes. */
function toRefusal(err: unknown): RefusalError | undefined {
  if (err instanceof RefusalError) return err;
  // Only HTTP knows that a store that could not commit means 503.
  if (err instanceof StoreUnavailableError) {
    return new StorageUnavailableError(err.message, { cause: err, ...(err.code ? { code: err.code } : {}) });
  }
  const status = (err as { status?: unknown }).status;
  if (status === 413) return new PayloadTooLargeError('body exceeds server.bodyLimit');
  if (status === 415) return new UnsupportedMediaTypeError('unsupported body encoding');
  const message = (err as { message?: unknown } | null)?.message;
  if (status === 400 && typeof message === 'string' && message.includes('forbidden prototype property')) {
    return new MalformedBodyError(PROTO_KEY_REFUSAL);
  }
  if (status === 400) return new MalformedBodyError('body is not valid JSON (a JSON object is expected)');
  // raw-body passes zlib's stream errors on as they are, without a status: a corrupt gzip body is the sender's fault.
  if (isDecompressionError(err))
    return new MalformedBodyError('body could not be decompressed (check Content-Encoding)');
  return undefined;
}

/** zlib codes (Z_DATA_ERROR, Z_BUF_ERROR, ...) and brotli's (ERR__ERROR_FORMAT_...). */
function isDecompressionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR__ERROR_'));
}

/** What is kept of a sender's text: enough to see what it was, never enough to fill the disk. */
export const KEPT_BODY_BYTES = 2048;
export const KEPT_HEADER_BYTES = 256;

function describeRejection(
  ctx: Koa.Context,
  status: number,
  reason: string,
  description: string,
  partner: string | undefined,
  deps: RefusalDeps,
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
    status,
    reason,
    description,
    partner: partner === undefined ? undefined : maskSecrets(partner, deps.secrets),
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
function withBody(rejection: NewRejection, ctx: Koa.Context, err: unknown, secrets: readonly string[]): NewRejection {
  const raw = (ctx.request as { rawBody?: unknown }).rawBody ?? (err as { body?: unknown }).body;
  if (typeof raw !== 'string') return rejection;
  const body = cutUtf8(maskSecrets(raw, secrets), KEPT_BODY_BYTES).text;
  return { ...rejection, body, bodyBytes: Buffer.byteLength(raw) };
}

function maskError(err: unknown, secrets: readonly string[]): { message: string; stack?: string } {
  const e = err instanceof Error ? err : new Error(String(err));
  return { message: maskSecrets(e.message, secrets), ...(e.stack ? { stack: maskSecrets(e.stack, secrets) } : {}) };
}

const elapsed = (started: number): number => Math.round((performance.now() - started) * 100) / 100;
