import type { IncomingHttpHeaders } from 'node:http';
import { Pool, type Dispatcher } from 'undici';

/**
 * The one outbound HTTP client (destinations' POSTs, SkyPay's status query): undici's Pool per origin, keep-alive,
 * driven through dispatch() with a handler of our own, so an answer costs no streams, no AbortController and no
 * timer of its own (node:http as used before spent 161 us of CPU per POST, undici 47). Redirects are never followed
 * (a 3xx is an answer like any other). One deadline bounds each exchange, connect to the last byte read: undici's
 * connect, headers and body timeouts bound each phase, and one timer per client catches the rest (a receiver
 * trickling its body), at timeoutMs after the request was made.
 *
 * undici lends a connection to the next request one event-loop turn after its answer ended (to see a server that
 * closes it despite keep-alive): a POST made in the same turn as the previous answer opens another connection, one
 * made a turn later (as the worker's next send, after the attempt is recorded) reuses it.
 */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The first `keepBytes` of the body as UTF-8, never a split character. */
  body: string;
  /** How many bytes of body were read: past readLimitBytes, reading stopped there and the connection was dropped. */
  bytes: number;
}

export interface HttpClientOptions {
  /** The deadline of each exchange, connect to last byte. Past it, post() rejects with a TimeoutError. */
  timeoutMs: number;
  /** How much of each answer's body is kept in `body`. */
  keepBytes: number;
  /**
   * Past this much body, reading stops and the connection is dropped rather than drained (a receiver answering
   * with megabytes); below it the rest is read, so the connection goes back to the pool. At least keepBytes + 1.
   */
  readLimitBytes?: number;
}

export interface HttpClient {
  /**
   * POSTs `body`; resolves with the answer, whatever its status. Rejects with a TimeoutError past the deadline, with
   * `signal`'s reason when it aborts, else with the transport's error (its `code`: ECONNREFUSED, UND_ERR_SOCKET...).
   */
  post(url: string, headers: Readonly<Record<string, string>>, body: string, signal?: AbortSignal): Promise<HttpAnswer>;
  /** Drops the pooled connections; exchanges still running fail. */
  close(): Promise<void>;
}

/** Reading a body stops here by default (see readLimitBytes). */
export const READ_LIMIT_BYTES = 64 * 1024;
/** Idle pooled connections are closed before a receiver's usual 5 s keep-alive timeout closes them under us. */
const IDLE_MS = 4_000;
/** Parsed URLs, by their text: a client posts to one or two. Cleared past this many. */
const MAX_TARGETS = 64;

/** undici's own phase timeouts: reported as the one deadline they enforce. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const { timeoutMs, keepBytes } = options;
  const readLimit = Math.max(options.readLimitBytes ?? READ_LIMIT_BYTES, keepBytes + 1);
  const pools = new Map<string, Pool>();
  const targets = new Map<string, { origin: string; path: string }>();
  const deadlines = new Deadlines();
  let closed = false;

  const poolFor = (origin: string): Pool => {
    let pool = pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        keepAliveTimeout: IDLE_MS,
        keepAliveMaxTimeout: IDLE_MS,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        connect: { timeout: timeoutMs },
      });
      pools.set(origin, pool);
    }
    return pool;
  };

  const targetOf = (url: string): { origin: string; path: string } => {
    let target = targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
        throw new TypeError(`only http and https URLs can be posted to, not ${parsed.protocol}`);
      }
      if (targets.size >= MAX_TARGETS) targets.clear();
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      targets.set(url, target);
    }
    return target;
  };

  return {
    post(url, headers, body, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      if (closed) return Promise.reject(new Error('the HTTP client is closed'));
      let target: { origin: string; path: string };
      try {
        target = targetOf(url);
      } catch (err) {
        return Promise.reject(err);
      }
      return new Promise<HttpAnswer>((resolve, reject) => {
        const exchange = new Exchange(resolve, reject, keepBytes, readLimit, timeoutMs, signal);
        deadlines.add(exchange, timeoutMs);
        poolFor(target.origin).dispatch(
          { origin: target.origin, path: target.path, method: 'POST', headers, body },
          exchange,
        );
      });
    },
    async close() {
      closed = true;
      deadlines.clear();
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((pool) => pool.destroy().catch(() => undefined)));
    },
  };
}

/**
 * One POST's answer as undici hands it over, settled once: with the answer, with its deadline passed, with the
 * caller's abort, or with the transport's error.
 */
class Exchange implements Dispatcher.DispatchHandler {
  /** When the deadline passes (ms, performance.now()); Deadlines reads it. */
  deadline = 0;
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private settled = false;
  private onDone: (() => void) | undefined;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly resolve: (answer: HttpAnswer) => void,
    private readonly reject: (err: unknown) => void,
    private readonly keepBytes: number,
    private readonly readLimit: number,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    if (signal) {
      this.onAbort = () => this.fail(signal.reason);
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /** Called by Deadlines: once added, it is told when this exchange ends. */
  watch(onDone: () => void): void {
    this.onDone = onDone;
  }

  expire(): void {
    this.fail(new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Settled before the request was written (its deadline, an abort): it is not sent.
    if (this.settled) controller.abort(new Error('the exchange already ended'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    // 1xx answers are interim; the final one follows.
    if (status < 200) return;
    this.status = status;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    // One byte past the limit's worth is kept so a character split at the limit can be cut cleanly.
    if (this.bytes <= this.keepBytes) this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes > this.readLimit) {
      this.succeed();
      controller.abort(new Error('read limit reached'));
    }
  }

  onResponseEnd(): void {
    this.succeed();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
      this.fail(new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError'), error);
    } else this.fail(error);
  }

  private succeed(): void {
    if (this.settled) return;
    this.end();
    const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    this.resolve({
      status: this.status,
      headers: this.headers,
      body: decodeUtf8Prefix(body, this.keepBytes),
      bytes: this.bytes,
    });
  }

  private fail(reason: unknown, cause?: Error): void {
    if (this.settled) return;
    this.end();
    if (cause !== undefined && reason instanceof Error) Object.defineProperty(reason, 'cause', { value: cause });
    this.reject(reason);
    this.controller?.abort(reason instanceof Error ? reason : new Error(String(reason)));
  }

  private end(): void {
    this.settled = true;
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    this.onDone?.();
  }
}

/**
 * Every exchange's deadline, with one timer: deadlines are made in order (now + the client's one timeoutMs), so the
 * first one still open is the next to pass, and the timer is armed for it alone.
 */
class Deadlines {
  private readonly open = new Set<Exchange>();
  private timer: NodeJS.Timeout | undefined;

  add(exchange: Exchange, timeoutMs: number): void {
    exchange.deadline = performance.now() + timeoutMs;
    this.open.add(exchange);
    exchange.watch(() => this.open.delete(exchange));
    if (this.timer === undefined) this.arm(exchange.deadline);
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const exchange of [...this.open]) exchange.expire();
  }

  private arm(at: number): void {
    this.timer = setTimeout(() => this.fire(), Math.max(0, Math.ceil(at - performance.now())));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    const now = performance.now();
    for (const exchange of this.open) {
      if (exchange.deadline > now) {
        this.arm(exchange.deadline);
        return;
      }
      // expire() ends the exchange, which takes it out of `open`: iterating a Set while deleting visited items is safe.
      exchange.expire();
    }
  }
}

/**
 * Decodes at most `maxBytes` of UTF-8, cutting before a character that would
 * otherwise be split so the text never ends in a replacement character.
 */
export function decodeUtf8Prefix(bytes: Uint8Array, maxBytes: number): string {
  let end = Math.min(bytes.length, Math.max(0, maxBytes));
  if (end < bytes.length) {
    // Step back over continuation bytes (10xxxxxx) to the start of the split character.
    while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8');
}
