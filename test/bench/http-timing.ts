import http from 'node:http';

/** One timed request: the status, the time to the last byte, and how many bytes came. */
export interface Timed {
  status: number;
  ms: number;
  bytes: number;
}

export class TimeoutError extends Error {}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** A request on a kept-alive connection, timed from sending to the last byte of the answer. */
export function timedRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<Timed & { headers: http.IncomingHttpHeaders }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, bytes, headers: res.headers }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    const timeoutMs = options.timeoutMs ?? 120_000;
    req.setTimeout(timeoutMs, () => req.destroy(new TimeoutError(`no answer from ${url} in ${timeoutMs} ms`)));
    req.end(options.body);
  });
}

/** One page of the dashboard or the admin API as a reader asks for it. */
export interface PageRequest {
  label: string;
  path: string;
  /** Whose credential: the dashboard's session cookie, the admin token, or none (/metrics). */
  auth: 'session' | 'token' | 'none';
}

export interface Credentials {
  cookie: string;
  token: string;
}

export function headersFor(page: PageRequest, credentials: Credentials): Record<string, string> {
  if (page.auth === 'session') return { cookie: credentials.cookie };
  if (page.auth === 'token') return { authorization: `Bearer ${credentials.token}` };
  return {};
}

/** Signs in to the dashboard with the admin token; resolves the session cookie. */
export async function signIn(baseUrl: string, token: string): Promise<string> {
  const answer = await timedRequest(`${baseUrl}/ui/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, next: '/ui' }).toString(),
  });
  const cookie = [answer.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('skyrelay_session='));
  if (answer.status !== 303 || cookie === undefined) throw new Error(`sign-in answered ${answer.status}`);
  return cookie.split(';')[0] as string;
}

/**
 * Polls `url` every `everyMs` one request at a time and keeps each answer's time: the longest is how long the
 * daemon's event loop was held while a request waited.
 */
export function pollHealth(url: string, everyMs: number): { stop(): Promise<number[]> } {
  const times: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      try {
        times.push((await timedRequest(url)).ms);
      } catch {
        times.push(Infinity);
      }
      const left = everyMs - (performance.now() - started);
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return times;
    },
  };
}
