import http from 'node:http';

export interface FloodResult {
  /** Answers by HTTP status, or 'error' for a request that got none. */
  statuses: Map<number | 'error', number>;
  ms: number;
}

/**
 * Sends `count` POSTs of `body` to `url` over `concurrency` keep-alive
 * connections, as fast as the server answers: a flood from one address.
 */
export async function floodPosts(
  url: string,
  options: { count: number; concurrency: number; body: Buffer; headers?: Record<string, string> },
): Promise<FloodResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const statuses = new Map<number | 'error', number>();
  const note = (key: number | 'error'): void => {
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
  };
  let sent = 0;
  const sendOne = (): Promise<void> =>
    new Promise((resolve) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': String(options.body.length),
            ...options.headers,
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
      await sendOne();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  agent.destroy();
  return { statuses, ms: Math.round(performance.now() - started) };
}
