import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectSink, type Sink } from './phases';
import { BENCH_AUTH, forkHelper, spawnBenchDaemon, type BenchServer } from './processes';
import { describeMachine } from './report';
import type { Receipt } from './sink';
import { formatNumber, median, percentile } from './stats';

/**
 * `npm run bench:ordered`: what delivering each payout's events in order costs the payouts that never failed. The
 * same load twice per round, to a webhook destination with `"ordered": true` and to one without, in alternating
 * order on fresh SQLite files: payouts of 3 or 4 statuses (each acknowledged before the next, as SkyPay sends
 * them), some callbacks sent twice, and a sink answering 503 to a share of attempts at random. Reported: the ack to
 * consumer delay of the events of payouts none of whose attempts the sink refused, ordered next to unordered.
 * Settings: BENCH_ROUNDS, BENCH_PAYOUTS, BENCH_RATE (payouts a second; 0 with BENCH_CONNECTIONS for as fast as they
 * go), BENCH_FAIL_SHARE, BENCH_DUPLICATE_SHARE.
 */
interface Settings {
  rounds: number;
  payouts: number;
  connections: number;
  /** Payouts started per second (each sends its statuses one after the other); 0: as fast as `connections` go. */
  rate: number;
  failShare: number;
  duplicateShare: number;
  drainMs: number;
  workDir: string;
}

function readSettings(): Settings {
  const num = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
  return {
    rounds: num('BENCH_ROUNDS', 3),
    payouts: num('BENCH_PAYOUTS', 2_000),
    connections: num('BENCH_CONNECTIONS', 32),
    rate: num('BENCH_RATE', 100),
    failShare: num('BENCH_FAIL_SHARE', 0.2),
    duplicateShare: num('BENCH_DUPLICATE_SHARE', 0.15),
    drainMs: num('BENCH_DRAIN_MS', 120_000),
    workDir: fs.mkdtempSync(path.join(process.env['BENCH_DIR'] ?? os.tmpdir(), 'skyrelay-bench-ordered-')),
  };
}

type Mode = 'unordered' | 'ordered';

interface OrderedPhase {
  mode: Mode;
  events: number;
  ackedPerS: number;
  /** Payouts none of whose attempts the sink refused, and the ack-to-consumer delays of their events. */
  cleanPayouts: number;
  cleanP50Ms: number;
  cleanP99Ms: number;
  /** The same for the payout's first status alone, and for its later ones (those that may wait for an earlier). */
  cleanFirstP99Ms: number;
  cleanLaterP99Ms: number;
  /** Every event's ack-to-consumer (its first accepted receipt), failed payouts included. */
  allP99Ms: number;
  undelivered: number;
}

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const now = (): number => performance.timeOrigin + performance.now();

/** Lifecycles of 3 and 4 statuses, with the status name each webhook carries. */
const LIFECYCLES: readonly (readonly [string, string][])[] = [
  [
    ['1', 'upload'],
    ['5', 'amendedSuccess'],
    ['2', 'paid'],
  ],
  [
    ['1', 'upload'],
    ['5', 'amendedSuccess'],
    ['6', 'amendedFailure'],
    ['2', 'paid'],
  ],
];

let sequence = 0;
const gmt8 = (ms: number): string => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');

async function post(url: string, body: Record<string, string>): Promise<boolean> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).catch(() => undefined);
  return res !== undefined && (await res.text()).includes('"responseCode":"1000"');
}

/** One payout's statuses, each acknowledged before the next is sent (as SkyPay sends them). */
async function sendPayout(url: string, n: number, s: Settings, ackedAt: Map<string, number>): Promise<void> {
  const controlNumber = `BORD${String(++sequence * 7_919 + n).padStart(11, '0')}`;
  const base = Date.now() - 120_000;
  const lifecycle = LIFECYCLES[n % LIFECYCLES.length] ?? [];
  for (const [i, [payType, status]] of lifecycle.entries()) {
    const body: Record<string, string> = {
      userName: 'AppName@skypay',
      action: 'payoutQueuePayout',
      authentication: BENCH_AUTH,
      controlNumber,
      payType,
      dealTime: gmt8(base + i * 1_000),
    };
    if (payType === '6') body['failDescription'] = 'Beneficiary name mismatch';
    if (await post(url, body)) ackedAt.set(`${controlNumber}/${status}`, now());
    if (Math.random() < s.duplicateShare) await post(url, body);
  }
}

/**
 * Sends the load: payouts started at `rate` a second (below saturation, so the delays are the path's, not a
 * queue's), or `connections` payouts at a time as fast as they go. Resolves with when each event (control number /
 * status) was acknowledged.
 */
async function sendLoad(url: string, s: Settings): Promise<{ ackedAt: Map<string, number>; seconds: number }> {
  const ackedAt = new Map<string, number>();
  const started = now();
  if (s.rate > 0) {
    const payouts: Promise<void>[] = [];
    for (let n = 0; n < s.payouts; n++) {
      const due = started + (n * 1000) / s.rate;
      if (due > now()) await new Promise((resolve) => setTimeout(resolve, due - now()));
      payouts.push(sendPayout(url, n, s, ackedAt));
    }
    await Promise.all(payouts);
  } else {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < s.payouts) await sendPayout(url, next++, s, ackedAt);
    };
    await Promise.all(Array.from({ length: s.connections }, worker));
  }
  return { ackedAt, seconds: (now() - started) / 1000 };
}

/** Receipts until every acknowledged event was accepted once (or the drain time ran out). */
async function collect(sink: Sink, ackedAt: ReadonlyMap<string, number>, drainMs: number): Promise<Receipt[]> {
  const deadline = Date.now() + drainMs;
  const receipts: Receipt[] = [];
  const taken = new Set<string>();
  for (;;) {
    for (const r of await sink.take()) {
      receipts.push(r);
      if (r.accepted) taken.add(`${r.controlNumber}/${r.status}`);
    }
    if ([...ackedAt.keys()].every((k) => taken.has(k)) || Date.now() > deadline) return receipts;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function measure(mode: Mode, server: BenchServer, sink: Sink, s: Settings): Promise<OrderedPhase> {
  // A tenth of the load first, delivered and discarded: the daemon's and the sink's code warmed up alike.
  const warm = await sendLoad(server.callbackUrl, { ...s, payouts: Math.ceil(s.payouts / 10) });
  await collect(sink, warm.ackedAt, s.drainMs);
  await sink.take();
  const { ackedAt, seconds } = await sendLoad(server.callbackUrl, s);
  const receipts = await collect(sink, ackedAt, s.drainMs);
  const failed = new Set(receipts.filter((r) => !r.accepted).map((r) => r.controlNumber));
  const firstTaken = new Map<string, number>();
  for (const r of receipts) {
    const key = `${r.controlNumber}/${r.status}`;
    if (r.accepted && !firstTaken.has(key)) firstTaken.set(key, r.at);
  }
  const clean: number[] = [];
  const first: number[] = [];
  const later: number[] = [];
  const all: number[] = [];
  const cleanPayouts = new Set<string>();
  for (const [key, ack] of ackedAt) {
    const at = firstTaken.get(key);
    if (at === undefined) continue;
    all.push(at - ack);
    const controlNumber = key.slice(0, key.indexOf('/'));
    if (failed.has(controlNumber)) continue;
    clean.push(at - ack);
    (key.endsWith('/upload') ? first : later).push(at - ack);
    cleanPayouts.add(controlNumber);
  }
  return {
    mode,
    events: ackedAt.size,
    ackedPerS: ackedAt.size / seconds,
    cleanPayouts: cleanPayouts.size,
    cleanP50Ms: percentile(clean, 50),
    cleanP99Ms: percentile(clean, 99),
    cleanFirstP99Ms: percentile(first, 99),
    cleanLaterP99Ms: percentile(later, 99),
    allP99Ms: percentile(all, 99),
    undelivered: ackedAt.size - all.length,
  };
}

const format = (round: number, r: OrderedPhase): string =>
  `round ${round} ${r.mode}: ${r.events} events, ${formatNumber(r.ackedPerS)} acks/s; ${r.cleanPayouts} payouts never ` +
  `refused: ack to consumer p50 ${formatNumber(r.cleanP50Ms, 1)} ms, p99 ${formatNumber(r.cleanP99Ms, 1)} ms ` +
  `(first status p99 ${formatNumber(r.cleanFirstP99Ms, 1)} ms, later ones ${formatNumber(r.cleanLaterP99Ms, 1)} ms); ` +
  `every event p99 ${formatNumber(r.allP99Ms, 0)} ms; undelivered ${r.undelivered}`;

async function main(): Promise<void> {
  const s = readSettings();
  log(`machine: ${describeMachine()}`);
  log(`settings: ${JSON.stringify(s)}`);
  const sinkProcess = await forkHelper('sink', 'sink.js', [String(s.failShare)]);
  const sink = connectSink(sinkProcess.child);
  const results: Record<Mode, OrderedPhase[]> = { unordered: [], ordered: [] };
  try {
    for (let round = 1; round <= s.rounds; round++) {
      // Alternating which goes first, so a slow stretch of the shared machine falls on both.
      const modes: Mode[] = round % 2 === 1 ? ['unordered', 'ordered'] : ['ordered', 'unordered'];
      for (const mode of modes) {
        const dbPath = path.join(s.workDir, `round${round}-${mode}.db`);
        const server = await spawnBenchDaemon({
          label: `skyrelay-${mode}`,
          dbPath,
          sinkUrl: `http://127.0.0.1:${sinkProcess.port}`,
          synchronous: 'FULL',
          logFile: path.join(s.workDir, `round${round}-${mode}.log`),
          maxInFlight: 32,
          ingestOnly: false,
          // No breaker: a consumer refusing a share of attempts at random is not down, and this measures ordering.
          sinkSettings: { breaker: false, ...(mode === 'ordered' ? { ordered: true } : {}) },
          // Refused attempts come back soon, as an operator tuning for a flaky consumer would set it.
          config: { delivery: { initialBackoffMs: 100, maxBackoffMs: 1_000 } },
        });
        try {
          const result = await measure(mode, server, sink, s);
          log(format(round, result));
          results[mode].push(result);
        } finally {
          await server.stop();
          for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${dbPath}${suffix}`, { force: true });
        }
      }
    }
  } finally {
    await sinkProcess.server.stop();
    if (process.env['BENCH_KEEP_LOGS'] === '1') log(`logs kept in ${s.workDir}`);
    else fs.rmSync(s.workDir, { recursive: true, force: true });
  }
  const med = (mode: Mode, pick: (r: OrderedPhase) => number): number => median(results[mode].map(pick));
  // Each round's two runs share that stretch of the shared machine: their ratio is the one compared with the target.
  const ratios = results.ordered.map((o, i) => o.cleanP99Ms / (results.unordered[i]?.cleanP99Ms ?? NaN));
  const ratio = median(ratios);
  const ofMedians = med('ordered', (r) => r.cleanP99Ms) / med('unordered', (r) => r.cleanP99Ms);
  const row = (label: string, pick: (r: OrderedPhase) => number, digits = 1): string =>
    `| ${label} | ${formatNumber(med('unordered', pick), digits)} | ${formatNumber(med('ordered', pick), digits)} |`;
  process.stdout.write(
    `\nMeasured on ${describeMachine()}; ${s.rounds} rounds of ${s.payouts} payouts (3 or 4 statuses, ` +
      `${s.duplicateShare * 100}% sent twice) ${s.rate > 0 ? `started at ${s.rate} a second` : `over ${s.connections} connections`}, sink refusing ` +
      `${s.failShare * 100}% of attempts; medians over the rounds.\n\n` +
      `| | unordered | ordered |\n|---|---|---|\n` +
      `${row('acknowledged callbacks/s', (r) => r.ackedPerS, 0)}\n` +
      `${row('payouts never refused', (r) => r.cleanPayouts, 0)}\n` +
      `${row('ack to consumer p50, payouts never refused (ms)', (r) => r.cleanP50Ms)}\n` +
      `${row('ack to consumer p99, payouts never refused (ms)', (r) => r.cleanP99Ms)}\n` +
      `${row('ack to consumer p99, every event (ms)', (r) => r.allP99Ms, 0)}\n\n` +
      `ordered / unordered p99 (payouts never refused), median of the rounds' ratios: ${formatNumber(ratio, 2)} ` +
      `(rounds: ${ratios.map((r) => formatNumber(r, 2)).join(', ')}; ratio of the medians ${formatNumber(ofMedians, 2)}); ` +
      `target within 2: ${ratio <= 2 ? 'met' : '**not met**'}\n`,
  );
}

main().catch((err: unknown) => {
  log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
