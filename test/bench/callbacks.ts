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
