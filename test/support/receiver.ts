import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Recorder } from './wait';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real HTTP receiver on 127.0.0.1 for tests: it records every request and
 * answers the way it is told to, including not at all.
 *
 *   const receiver = await startReceiver();
 *   receiver.respondWith(replies.rateLimited('3'));
 *   ... send to receiver.url ...
 *   const [request] = await receiver.waitFor(1);
 *   await receiver.close();
 */

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/services/T1/B1/xyz`. */
  url: string;
  /** Lower-cased names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  /** When the whole request had arrived (Date.now()). */
  receivedAt: number;
}

export type Reply =
  /** Answer with this status, body and headers. */
  | { kind: 'reply'; status: number; body?: string; headers?: Record<string, string> }
  /** Answer with a body made from the request (a receiver quoting what it was sent). */
  | { kind: 'echo'; status: number; body: (request: RecordedRequest) => string }
  /** Answer like 'reply', but only after `ms` (a slow consumer, so sends are still running when a sender dies). */
  | { kind: 'delayed'; ms: number; status: number }
  /** Read the request, then never answer (until close()). */
  | { kind: 'hang' }
  /** Send status and headers, then never finish the body (until close()). */
  | { kind: 'stall-body'; status: number }
  /** Answer each request as `choose` picks for it (per payout, at random): a receiver whose answer varies. */
  | { kind: 'choose'; choose: (request: RecordedRequest) => Reply }
  /** Read the request, then answer 200 "ok" only when release() lets it go (oldest first). */
  | { kind: 'held' };

/** Ready-made replies for the cases destinations must handle. */
export const replies = {
  ok: (body = 'ok', status = 200): Reply => ({ kind: 'reply', status, body }),
  rateLimited: (retryAfter: string, body = 'rate_limited'): Reply => ({
    kind: 'reply',
    status: 429,
    body,
    headers: { 'retry-after': retryAfter },
  }),
  unavailable: (body = 'unavailable'): Reply => ({ kind: 'reply', status: 503, body }),
  /** 400 with a Slack-style error word as the body. */
  badRequest: (body = 'invalid_payload'): Reply => ({ kind: 'reply', status: 400, body }),
  status: (status: number, body = '', headers: Record<string, string> = {}): Reply => ({
    kind: 'reply',
    status,
    body,
    headers,
  }),
  echo: (status: number, body: (request: RecordedRequest) => string): Reply => ({ kind: 'echo', status, body }),
  delayed: (ms: number, status = 200): Reply => ({ kind: 'delayed', ms, status }),
  hang: (): Reply => ({ kind: 'hang' }),
  stallBody: (status = 200): Reply => ({ kind: 'stall-body', status }),
  choose: (choose: (request: RecordedRequest) => Reply): Reply => ({ kind: 'choose', choose }),
  held: (): Reply => ({ kind: 'held' }),
};

export type RequestPredicate = (requests: readonly RecordedRequest[]) => boolean;

export interface Receiver {
  /** Base URL, e.g. `http://127.0.0.1:54321`; any path is accepted. */
  readonly url: string;
  readonly port: number;
  /** Every completed request so far, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** Sets the reply for every request from now on (default: 200 "ok"). */
  respondWith(reply: Reply): void;
  /** Queues replies used once each, in order, before falling back to respondWith's. */
  respondOnce(...queued: Reply[]): void;
  /** Answers up to `count` held requests (replies.held()), oldest first; all of them by default. */
  release(count?: number): void;
  /** Requests read and not yet answered, now and at most at once so far. */
  readonly open: { now: number; most: number };
  /**
   * Resolves with all requests once there are `count` of them or `predicate`
   * holds; rejects after timeoutMs with what was received instead.
   */
  waitFor(condition: number | RequestPredicate, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Stops listening and destroys open sockets, including hung ones. */
  close(): Promise<void>;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** `port` brings a receiver back where a closed one listened (a consumer recovering from an outage). */
export async function startReceiver(options: { port?: number } = {}): Promise<Receiver> {
  const recorder = new Recorder<RecordedRequest>('receiver');
  const requests = recorder.items;
  const sockets = new Set<Socket>();
  const queue: Reply[] = [];
  let standing: Reply = replies.ok();
  const held: ServerResponse[] = [];
  const open = { now: 0, most: 0 };

  const answer = (reply: Reply, res: ServerResponse, request: RecordedRequest): void => {
    if (reply.kind === 'hang') return;
    if (reply.kind === 'choose') {
      answer(reply.choose(request), res, request);
      return;
    }
    if (reply.kind === 'held') {
      held.push(res);
      return;
    }
    if (reply.kind === 'delayed') {
      setTimeout(() => answer({ kind: 'reply', status: reply.status, body: 'ok' }, res, request), reply.ms);
      return;
    }
    if (reply.kind === 'echo') {
      res.writeHead(reply.status, { 'content-type': 'text/plain' });
      res.end(reply.body(request));
      return;
    }
    if (reply.kind === 'stall-body') {
      res.writeHead(reply.status, { 'content-type': 'text/plain' });
      res.write('partial');
      return;
    }
    res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
    res.end(reply.body ?? '');
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const request = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        json: parseJson(body),
        receivedAt: Date.now(),
      };
      open.now++;
      open.most = Math.max(open.most, open.now);
      res.on('close', () => open.now--);
      recorder.add(request);
      answer(queue.shift() ?? standing, res, request);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get requests() {
      return requests;
    },
    respondWith(reply) {
      standing = reply;
    },
    respondOnce(...queued) {
      queue.push(...queued);
    },
    release(count = held.length) {
      for (const res of held.splice(0, count)) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    },
    get open() {
      return { ...open };
    },
    waitFor(condition, timeoutMs = 5000) {
      return recorder.waitFor(condition, timeoutMs);
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/**
 * A URL nobody listens on: bind an ephemeral port, note it, release it.
 * Something else could grab the port in between, which is rare enough for tests.
 */
export async function getRefusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
