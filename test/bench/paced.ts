import { Pool } from 'undici';
import { buildBenchCallback, type LoadResult } from './callbacks';

const now = (): number => performance.timeOrigin + performance.now();

/** One acknowledged callback: when its answer completed (epoch ms) and how long after it was due. */
export interface PacedSample {
  at: number;
  ms: number;
}

/**
 * An open-loop load at a fixed rate: one callback every 1000/rate ms, each sent at its own time whether or not
 * earlier ones were answered. autocannon's overallRate is a quota per second per connection, spent back to back
 * as each second starts: "100 callbacks/s" became a burst of 100 each second, and latency measured how long the
 * burst took. Each latency here runs from the moment the request was due, so a server that falls behind is charged
 * for the wait too (no coordinated omission).
 */
export async function drivePaced(
  url: string,
  options: { connections: number; seconds: number; prefix: string; rate: number },
): Promise<LoadResult & { samples: PacedSample[] }> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: options.connections, pipelining: 1 });
  const ackedAt = new Map<string, number>();
  const latenciesMs: number[] = [];
  const samples: PacedSample[] = [];
  let failed = 0;
  const interval = 1000 / options.rate;
  const total = Math.round(options.rate * options.seconds);
  const started = now();
  const sends: Promise<void>[] = [];
  const send = async (due: number): Promise<void> => {
    const callback = buildBenchCallback(options.prefix);
    try {
      const response = await pool.request({
        path: target.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: callback.json,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      const text = await response.body.text();
      const done = now();
      if (response.statusCode === 200 && text.includes('"responseCode":"1000"')) {
        ackedAt.set(callback.controlNumber, done);
        latenciesMs.push(done - due);
        samples.push({ at: done, ms: done - due });
      } else {
        failed += 1;
      }
    } catch {
      failed += 1;
    }
  };
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sends.push(send(due));
  }
  await Promise.all(sends);
  await pool.close();
  return { durationS: (now() - started) / 1000, acked: ackedAt.size, failed, latenciesMs, ackedAt, samples };
}
