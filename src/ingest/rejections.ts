import { StoreUnavailableError } from '../store/errors';
import type { RejectionReason } from './types';

/**
 * Why a callback was not acknowledged. One class per concept, each with the
 * HTTP status it maps to and a short machine reason (used in metrics, the
 * log line and rejection rows). answer.ts turns these into SkyPay-shaped
 * replies; anything else becomes a 500 that is still logged and kept.
 */

export abstract class RejectionError extends Error {
  abstract readonly status: number;
  abstract readonly reason: RejectionReason;
  /** The partner claimed in the body, once known; never the key. */
  partner?: string;
  /** The body was left unread (or half read): answer, then close the connection rather than read the rest. */
  readonly closesConnection: boolean = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** What the client is told; the message itself is for the log line and the kept row. */
  get answerDescription(): string {
    return this.message;
  }
}

/**
 * The one description a client gets for every authentication failure: telling "unknown partner" from "wrong key"
 * or "must encrypt" would let anyone find which partner names exist. The log line and the kept row say which.
 */
export const AUTHENTICATION_FAILED =
  'authentication failed: check userName, the authentication key and the encrypt key';

/** The body is not JSON (or not an object) once decrypted. */
export class MalformedBodyError extends RejectionError {
  readonly status = 400;
  readonly reason = 'malformed';
}

/** A field breaks SkyPay's documented rules; the message names field and rule. */
export class InvalidCallbackError extends RejectionError {
  readonly status = 400;
  readonly reason = 'invalid';
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`);
  }
}

/** Unknown partner, wrong key, or a body no configured encrypt key opens. */
export class UnauthenticatedError extends RejectionError {
  readonly status = 401;
  readonly reason: RejectionReason = 'unauthenticated';
  override get answerDescription(): string {
    return AUTHENTICATION_FAILED;
  }
}

/** Plain JSON for a partner configured with encrypt keys: no bypassing them. */
export class EncryptionRequiredError extends UnauthenticatedError {
  override readonly reason = 'encryption_required';
}

export class PayloadTooLargeError extends RejectionError {
  readonly status = 413;
  readonly reason = 'too_large';
  override readonly closesConnection = true;
}

export class UnsupportedMediaTypeError extends RejectionError {
  readonly status = 415;
  readonly reason = 'unsupported_media_type';
}

export class MethodNotAllowedError extends RejectionError {
  readonly status = 405;
  readonly reason = 'method_not_allowed';
}

/**
 * The store could not commit (disk full, read-only, locked too long, file
 * lost). SkyPay must not get a 1000 for it; a 503 tells it to come back.
 */
export class StorageRejectionError extends RejectionError {
  readonly status = 503;
  readonly reason = 'storage_unavailable';
  constructor(
    message: string,
    /** The database's own code (SQLITE_BUSY, SQLITE_FULL): for the log line, never for the client's answer. */
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The body did not arrive within server.bodyTimeoutMs: the connection is closed after the answer. */
export class BodyTimeoutError extends RejectionError {
  readonly status = 408;
  readonly reason = 'body_timeout';
  override readonly closesConnection = true;
}

/**
 * Too many large bodies are being read at once (server.maxBodyMemory): this
 * one is not read at all. A 503 tells SkyPay to send it again.
 */
export class BodyMemoryBusyError extends RejectionError {
  readonly status = 503;
  readonly reason = 'busy';
  override readonly closesConnection = true;
}

/**
 * A "__proto__" key is rejected on every transport: the JSON body parser
 * already rejects it (prototype poisoning), and an encrypted body must not
 * get through what a plain one cannot.
 */
export const PROTO_KEY_REJECTION = 'body has a "__proto__" key';

/**
 * The one place an error thrown by something other than a stage (the body
 * parser, zlib, the store) becomes a rejection; undefined means skyrelay
 * itself is broken (500). The store's errors are mapped here and nowhere else.
 */
export function toRejection(err: unknown): RejectionError | undefined {
  if (err instanceof RejectionError) return err;
  if (err instanceof StoreUnavailableError) return new StorageRejectionError(err.message, err.code, { cause: err });
  const status = (err as { status?: unknown } | null)?.status;
  if (status === 413) return new PayloadTooLargeError('body exceeds server.bodyLimit');
  if (status === 415) return new UnsupportedMediaTypeError('unsupported body encoding');
  const message = (err as { message?: unknown } | null)?.message;
  if (status === 400 && typeof message === 'string' && message.includes('forbidden prototype property')) {
    return new MalformedBodyError(PROTO_KEY_REJECTION);
  }
  if (status === 400) return new MalformedBodyError('body is not valid JSON (a JSON object is expected)');
  // raw-body passes zlib's stream errors on as they are, without a status: a corrupt gzip body is the sender's fault.
  if (isDecompressionError(err)) {
    return new MalformedBodyError('body could not be decompressed (check Content-Encoding)');
  }
  return undefined;
}

/** zlib codes (Z_DATA_ERROR, Z_BUF_ERROR, ...) and brotli's (ERR__ERROR_FORMAT_...). */
function isDecompressionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR__ERROR_'));
}
