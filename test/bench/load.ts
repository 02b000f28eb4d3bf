import autocannon from 'autocannon';
import { BENCH_AUTH } from './processes';

/** One load phase's raw observations, from the client's side. */
export interface LoadResult {
  durationS: number;
  /** 200 with responseCode 1000. */
  acked: number;
  /** Any other answer, or a connection error or timeout. */
  failed: number;
  /** Milliseconds from request written to response complete, for every acknowledged request. */
  latenciesMs: number[];
  /** When each control number was acknowledged (epoch ms, sub-ms precision). */
  ackedAt: Map<string, number>;
}

const now = (): number => performance.timeOrigin + performance.now();
const SCRAMBLE = 2_654_435_761n;
const TEN_DIGITS = 10_000_000_000n;
let sequence = 0n;

/**
 * A unique, valid control number per request. The counter is scrambled (a
 * bijection mod 10^10) so that inserts land all over the identity index, as
 * real control numbers do, instead of always at its right edge.
 */
function nextControlNumber(prefix: string): string {
  sequence += 1n;
  return `${prefix}${((sequence * SCRAMBLE) % TEN_DIGITS).toString().padStart(10, '0')}`;
}

/** A callback as SkyPay sends it, cycling through all six payTypes; failures carry a failDescription. */
export function buildBenchCallback(prefix: string): { controlNumber: string; json: string } {
  const controlNumber = nextControlNumber(prefix);
  const payType = Number(sequence % 6n) + 1;
  const body: Record<string, string> = {
    userName: 'AppName@skypay',
    action: 'payoutQueuePayout',
    authentication: BENCH_AUTH,
    controlNumber,
    payType: String(payType),
    // Now in GMT+8: the bench runs NODE_ENV=production, which refuses dealTimes over 30 days old.
    dealTime: new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' '),
  };
  if (payType === 4 || payType === 6) body['failDescription'] = 'Beneficiary account closed';
  if (payType === 2) body['referenceNumber'] = `MLA${controlNumber}`;
  return { controlNumber, json: JSON.stringify(body) };
}

interface Slot {
  controlNumber?: string;
}

/** Drives `url` with `connections` keep-alive connections for `seconds`, one fresh callback per request. */
export function driveLoad(
  url: string,
  options: { connections: number; seconds: number; prefix: string; rate?: number },
): Promise<LoadResult> {
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
        // A fixed total rate (BENCH_RATE) instead of as fast as answers come: latency below saturation.
        ...(options.rate ? { overallRate: options.rate } : {}),
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
