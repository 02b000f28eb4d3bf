import type Koa from 'koa';
import type { Logger } from 'pino';
import {
  MalformedBodyError, PayloadTooLargeError, RefusalError, StorageUnavailableError, UnsupportedMediaTypeError,
  type RefusalReason,
} from '../errors';
import { createId } from '../ids';
import { PROTO_KEY_REFUSAL } from '../skypay/body-shape';
import { maskSecrets } from '../skypay/mask';
import type { CallbackState } from '../skypay/receive';
import { buildReply, encodeReply } from '../skypay/reply';
import type { IngestStore, NewRejection } from '../store/types';

export interface RefusalDeps {
  store: IngestStore;
  logger: Logger;
  offsetMinutes: number;
  /** Every configured secret: masked out of anything kept or logged. */
  secrets: readonly string[];
  /** Told of every refusal after it is recorded (metrics, rejection alerts). */
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
      ctx.type = reply.type;
      ctx.body = reply.body;
      const state = (ctx.state.callback ?? {}) as CallbackState;
      const rejection = describeRejection(ctx, err, status, reason, description, state.partner ?? refusal?.partner, deps);
      const ms = elapsed(started);
      deps.onOutcome?.(`refused:${reason}`, ms);
      // The database's code (SQLITE_BUSY...) is for operators: logged here, never in the reply.
      const code = err instanceof StorageUnavailableError ? err.code : undefined;
      const log = { outcome: 'refused', reason, status, description, ...(code ? { code } : {}), ...state,
        remoteAddress: rejection.remoteAddress, ms };
      if (refusal) deps.logger.warn(log, 'callback');
      else deps.logger.error({ ...log, err: maskError(err, deps.secrets) }, 'callback');
      const keep = deps.store.saveRejection(rejection).then(
        () => deps.onRefused?.(rejection),
        (storeErr: unknown) => {
          deps.logger.error({ err: maskError(storeErr, deps.secrets), rejectionId: rejection.id }, 'could not keep refused callback');
        },
      );
      // A store that could not take the callback would hold its 503 for another busyTimeoutMs too: answer now.
      if (!(err instanceof StorageUnavailableError)) await keep;
    }
  };
}

/** Maps bodyparser/raw-body errors (by their status) onto our refusal classes. */
function toRefusal(err: unknown): RefusalError | undefined {
  if (err instanceof RefusalError) return err;
  const status = (err as { status?: unknown }).status;
  if (status === 413) return new PayloadTooLargeError('body exceeds server.bodyLimit');
  if (status === 415) return new UnsupportedMediaTypeError('unsupported body encoding');
  const message = (err as { message?: unknown } | null)?.message;
  if (status === 400 && typeof message === 'string' && message.includes('forbidden prototype property')) {
    return new MalformedBodyError(PROTO_KEY_REFUSAL);
  }
  if (status === 400) return new MalformedBodyError('body is not valid JSON (a JSON object is expected)');
  // raw-body passes zlib's stream errors on as they are, without a status: a corrupt gzip body is the sender's fault.
  if (isDecompressionError(err)) return new MalformedBodyError('body could not be decompressed (check Content-Encoding)');
  return undefined;
}

/** zlib codes (Z_DATA_ERROR, Z_BUF_ERROR, ...) and brotli's (ERR__ERROR_FORMAT_...). */
function isDecompressionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR__ERROR_'));
}

function describeRejection(
  ctx: Koa.Context, err: unknown, status: number, reason: string, description: string,
  partner: string | undefined, deps: RefusalDeps,
): NewRejection {
  const raw = (ctx.request as { rawBody?: unknown }).rawBody ?? (err as { body?: unknown }).body;
  return {
    id: createId('rej'),
    receivedAt: new Date(),
    remoteAddress: ctx.ip || undefined,
    method: ctx.method,
    path: ctx.path,
    contentType: ctx.get('content-type') || undefined,
    status,
    reason,
    description,
    partner: partner === undefined ? undefined : maskSecrets(partner, deps.secrets),
    body: typeof raw === 'string' ? maskSecrets(raw, deps.secrets) : undefined,
  };
}

function maskError(err: unknown, secrets: readonly string[]): { message: string; stack?: string } {
  const e = err instanceof Error ? err : new Error(String(err));
  return { message: maskSecrets(e.message, secrets), ...(e.stack ? { stack: maskSecrets(e.stack, secrets) } : {}) };
}

const elapsed = (started: number): number => Math.round((performance.now() - started) * 100) / 100;
