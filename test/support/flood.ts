import http from 'node:http';

export interface FloodResult {
  /** Answers by HTTP status, or 'error' for a request that got none. */
  statuses: Map<number | 'error', number>;
  ms: number;
}

/**
 * Sends `count` POSTs of `body` to `url` over `concurrency` keep-alive
 * connections, as fast as the server answers: a flood from one address. With
 * `localAddresses` (loopback ones: all of 127.0.0.0/8 is this host) each
 * request comes from the next of them in turn, on a connection of its own:
 * a flood from many addresses. `headers` may be a function of the request's
 * number (a client that rotates what it writes).
 */
export async function floodPosts(
  url: string,
  options: {
    count: number;
    concurrency: number;
    body: Buffer;
    headers?: Record<string, string> | ((n: number) => Record<string, string>);
    localAddresses?: readonly string[];
  },
): Promise<FloodResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const addresses = options.localAddresses ?? [];
  const statuses = new Map<number | 'error', number>();
  const note = (key: number | 'error'): void => {
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
  };
  let sent = 0;
  const sendOne = (n: number): Promise<void> =>
    new Promise((resolve) => {
      const from = addresses.length > 0 ? { agent: false, localAddress: addresses[n % addresses.length] } : { agent };
      const extra = typeof options.headers === 'function' ? options.headers(n) : options.headers;
      const req = http.request(
        url,
        {
          method: 'POST',
          ...from,
          headers: {
            'content-type': 'application/json',
            'content-length': String(options.body.length),
            ...extra,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            note(res.statusCode ?? 0);
            resolve();
          });
          res.on('error', () => {
            note('error');
            resolve();
          });
        },
      );
      req.on('error', () => {
        note('error');
        resolve();
      });
      req.end(options.body);
    });
  const started = performance.now();
  const loop = async (): Promise<void> => {
    while (sent < options.count) {
      sent += 1;
      await sendOne(sent - 1);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  agent.destroy();
  return { statuses, ms: Math.round(performance.now() - started) };
}
