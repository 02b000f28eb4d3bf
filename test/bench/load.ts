import autocannon from 'autocannon';
import { buildBenchCallback, type LoadResult } from './callbacks';
import { drivePaced } from './paced';

export type { LoadResult } from './callbacks';

const now = (): number => performance.timeOrigin + performance.now();

interface Slot {
  controlNumber?: string;
}

/**
 * Drives `url` with `connections` keep-alive connections for `seconds`, one fresh callback per request: as fast as
 * answers come, or at a fixed rate (BENCH_RATE) spread evenly over each second (./paced.ts).
 */
export function driveLoad(
  url: string,
  options: { connections: number; seconds: number; prefix: string; rate?: number },
): Promise<LoadResult> {
  if (options.rate) return drivePaced(url, { ...options, rate: options.rate });
  const ackedAt = new Map<string, number>();
  const latenciesMs: number[] = [];
  let failed = 0;
  const started = now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        connections: options.connections,
        duration: options.seconds,
        timeout: 30,
        requests: [
          {
            setupRequest: (request, context) => {
              const callback = buildBenchCallback(options.prefix);
              (context as Slot).controlNumber = callback.controlNumber;
              return { ...request, body: callback.json };
            },
            onResponse: (status, body, context) => {
              const controlNumber = (context as Slot).controlNumber;
              if (status === 200 && controlNumber !== undefined && body.includes('"responseCode":"1000"')) {
                ackedAt.set(controlNumber, now());
              } else {
                failed += 1;
              }
            },
          },
        ],
      },
      (err) => {
        if (err) reject(err);
        else resolve({ durationS: (now() - started) / 1000, acked: ackedAt.size, failed, latenciesMs, ackedAt });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode === 200) latenciesMs.push(responseTime);
    });
    instance.on('reqError', () => {
      failed += 1;
    });
  });
}
