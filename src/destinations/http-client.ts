import http from 'node:http';
import https from 'node:https';
import { decodeUtf8Prefix } from './snippet';
import { RESPONSE_SNIPPET_BYTES } from './types';

/**
 * A destination's HTTP client: POSTs through a pooled keep-alive Agent of
 * node:http(s). fetch spent 355-435 us of CPU per POST here (Headers, abort
 * signals, web streams); this takes about a quarter of that.
 * Redirects are never followed (a 3xx is an answer like any other), and the
 * attempt's signal bounds everything, connect to the last byte read.
 */
export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /**
   * The first `keepBytes` of the body, never a split character: more than is recorded (RESPONSE_SNIPPET_BYTES),
   * so a secret crossing that cut is seen whole and masked before the cut (scrubSnippet).
   */
  snippet: string;
}

export interface HttpClient {
  post(url: string, headers: Readonly<Record<string, string>>, body: string, signal: AbortSignal): Promise<HttpAnswer>;
  /** Closes the pooled connections. */
  close(): void;
}

/**
 * Past this much body we stop reading and drop the connection rather than
 * drain a receiver answering with megabytes; below it the rest is drained
 * so the connection goes back to the pool.
 */
const DRAIN_LIMIT_BYTES = 64 * 1024;

/** `keepBytes`: how much of each answer's body is kept (RESPONSE_SNIPPET_BYTES plus secretLookaheadBytes). */
export function createHttpClient(keepBytes: number = RESPONSE_SNIPPET_BYTES): HttpClient {
  // The rest of a body up to here is drained, so the connection goes back to the pool.
  const drainLimit = Math.max(DRAIN_LIMIT_BYTES, keepBytes);
  const agentOptions = {
    keepAlive: true,
    // Idle pooled connections are closed before a receiver's usual 5 s keep-alive timeout closes them under us.
    timeout: 4_000,
    maxFreeSockets: 256,
  };
  const agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
  return {
    post(url, headers, body, signal) {
      return new Promise<HttpAnswer>((resolve, reject) => {
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        const target = new URL(url);
        const secure = target.protocol === 'https:';
        const payload = Buffer.from(body, 'utf8');
        let settled = false;
        const settle = (err: unknown, answer?: HttpAnswer): void => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          if (answer) resolve(answer);
          else reject(err);
        };
        const request = (secure ? https : http).request(target, {
          method: 'POST',
          agent: secure ? agents.https : agents.http,
          headers: { ...headers, 'content-length': String(payload.length) },
        });
        // The signal's reason itself (our TimeoutError, the worker's abort): what failures are classified by.
        function onAbort(): void {
          request.destroy(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
          settle(signal.reason);
        }
        signal.addEventListener('abort', onAbort, { once: true });
        request.on('error', (err) => settle(err));
        request.on('response', (response) => {
          const chunks: Buffer[] = [];
          let total = 0;
          response.on('data', (chunk: Buffer) => {
            // One byte past the limit's worth is kept so a character split at the limit can be cut cleanly.
            if (total <= keepBytes) chunks.push(chunk);
            total += chunk.length;
            if (total > drainLimit) {
              finish();
              response.destroy();
            }
          });
          const finish = (): void =>
            settle(undefined, {
              status: response.statusCode ?? 0,
              headers: response.headers,
              snippet: decodeUtf8Prefix(Buffer.concat(chunks), keepBytes),
            });
          response.on('end', finish);
          response.on('error', (err) => settle(err));
          response.on('aborted', () => settle(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })));
        });
        request.end(payload);
      });
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
