/**
 * Why a request was not acknowledged. One class per concept, each with the
 * HTTP status it maps to and a short machine reason (used in metrics, the
 * refusal log and rejection events). The one error middleware turns these into
 * SkyPay-shaped replies; anything else becomes a 500 that is still logged.
 */
export type RefusalReason =
  | 'malformed'
  | 'invalid'
  | 'unauthenticated'
  | 'encryption_required'
  | 'too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'storage_unavailable'
  | 'body_timeout'
  | 'busy';

export abstract class RefusalError extends Error {
  abstract readonly status: number;
  abstract readonly reason: RefusalReason;
  /** Set when the request decrypted: the refusal is answered under the same key. */
  replyKey?: Buffer;
  /** The partner claimed in the body, once known; never the key. */
  partner?: string;
  /** The body was left unread (or half read): answer, then close the connection rather than read the rest. */
  readonly closesConnection: boolean = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The body is not JSON (or not an object) once decrypted. */
export class MalformedBodyError extends RefusalError {
  readonly status = 400;
  readonly reason = 'malformed';
}

/** A field breaks SkyPay's documented rules; the message names field and rule. */
export class InvalidCallbackError extends RefusalError {
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
export class UnauthenticatedError extends RefusalError {
  readonly status = 401;
  readonly reason: RefusalReason = 'unauthenticated';
}

/** Plain JSON for a partner configured with encrypt keys: no bypassing them. */
export class EncryptionRequiredError extends UnauthenticatedError {
  override readonly reason = 'encryption_required';
}

export class PayloadTooLargeError extends RefusalError {
  readonly status = 413;
  readonly reason = 'too_large';
  override readonly closesConnection = true;
}

export class UnsupportedMediaTypeError extends RefusalError {
  readonly status = 415;
  readonly reason = 'unsupported_media_type';
}

export class MethodNotAllowedError extends RefusalError {
  readonly status = 405;
  readonly reason = 'method_not_allowed';
}

/**
 * The store could not commit (disk full, read-only, locked too long: any
 * StoreUnavailableError from src/store/errors.ts). SkyPay must not get a 1000
 * for it; a 503 tells it to come back.
 */
export class StorageUnavailableError extends RefusalError {
  readonly status = 503;
  readonly reason = 'storage_unavailable';
  /** The database's own code (SQLITE_BUSY, SQLITE_FULL): for the log and /readyz, never for the client's answer. */
  readonly code: string | undefined;
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.code = options?.code;
  }
}

/** The body did not arrive within server.bodyTimeoutMs: the connection is closed after the answer. */
export class BodyTimeoutError extends RefusalError {
  readonly status = 408;
  readonly reason = 'body_timeout';
  override readonly closesConnection = true;
}

/**
 * Too many large bodies are being read at once (server.maxBodyMemory): this
 * one is not read at all. A 503 tells SkyPay to send it again.
 */
export class BodyMemoryBusyError extends RefusalError {
  readonly status = 503;
  readonly reason = 'busy';
  override readonly closesConnection = true;
}
