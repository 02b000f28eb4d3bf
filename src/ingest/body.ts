import { BodyMemoryBusyError, BodyTimeoutError, PayloadTooLargeError } from './rejections';

/** "1mb", "512kb", "100b" (the forms server.bodyLimit accepts) in bytes; k = 1024, like koa-bodyparser. */
export function parseSize(size: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb)$/i.exec(size.trim());
  if (!m) throw new RangeError(`not a size: ${size}`);
  const unit = (m[2] as string).toLowerCase();
  return Math.floor(Number(m[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1));
}

/** Bodies up to this size are read without asking the budget: a callback is a few hundred bytes. */
export const SMALL_BODY_BYTES = 64 * 1024;

/**
 * How many bytes of large bodies may be held in memory at once, across all
 * requests. 500 stalled 1 MB uploads once took the daemon to 666 MiB; with
 * a budget, only what fits is read and the rest are rejected before a byte.
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly capacity: number) {}

  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.capacity) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

export interface BodyLimits {
  /** server.bodyLimit in bytes. */
  limitBytes: number;
  /** server.bodyTimeoutMs: the whole body must have arrived by then. */
  timeoutMs: number;
  budget: BodyBudget;
}

/** What the body stage needs from the request: its declared framing, and how to read the body. */
export interface BodySource {
  /** Content-Length, when declared. */
  contentLength: number | undefined;
  /** Content-Encoding ('' or 'identity' when none). */
  contentEncoding: string;
  /** Reads and parses the whole body; called at most once, and only once the checks below pass. */
  read: () => Promise<ReadBody>;
}

export interface ReadBody {
  /** A JSON body's value, or a text body's string. */
  parsed: unknown;
  /** The text the body was parsed from. */
  raw: string | undefined;
}

/**
 * Reads the body with the checks that keep an unauthenticated client from
 * making skyrelay hold memory: a declared Content-Length over the limit is
 * rejected before reading, large bodies share one memory budget, and a
 * body that has not arrived within timeoutMs is rejected (408). Every one of
 * these answers closes the connection (see RejectionError.closesConnection).
 */
export async function readBodyWithin(source: BodySource, limits: BodyLimits): Promise<ReadBody> {
  const declared = source.contentLength;
  if (declared !== undefined && declared > limits.limitBytes) {
    throw new PayloadTooLargeError(`body exceeds server.bodyLimit (Content-Length ${declared})`);
  }
  // Chunked or compressed bodies only show their size as they arrive: assume the largest allowed.
  const compressed = (source.contentEncoding || 'identity').toLowerCase() !== 'identity';
  const expected = declared === undefined || compressed ? limits.limitBytes : declared;
  const reserved = expected > SMALL_BODY_BYTES ? expected : 0;
  if (reserved > 0 && !limits.budget.tryTake(reserved)) {
    throw new BodyMemoryBusyError('too many large bodies are being received; send it again shortly');
  }
  try {
    return await within(
      source.read(),
      limits.timeoutMs,
      () => new BodyTimeoutError(`body not received within server.bodyTimeoutMs (${limits.timeoutMs} ms)`),
    );
  } finally {
    limits.budget.give(reserved);
  }
}

/** Settles like `work`, or rejects with timeout() once ms pass; a late failure of `work` is ignored. */
function within<T>(work: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(timeout()), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
