import os from 'node:os';
import type { PhaseResult } from './phases';
import { formatNumber, median } from './stats';

export interface Rounds {
  skyrelay: PhaseResult[];
  bare: PhaseResult[];
  seeded: PhaseResult[];
  normal: PhaseResult[];
  baseline: PhaseResult[];
  /** skyrelay on PostgreSQL (store.url), one instance. */
  postgres: PhaseResult[];
  /** Two instances on one PostgreSQL database, the load split between them. */
  postgresPair: PhaseResult[];
}

const med = (results: PhaseResult[], pick: (r: PhaseResult) => number): number => median(results.map(pick));
const verdict = (ok: boolean): string => (ok ? 'met' : '**not met**');

/** One line per phase, so the spread behind each median is visible. */
export function formatPhase(round: number, r: PhaseResult): string {
  return (
    `round ${round} ${r.label}: ${formatNumber(r.ackedPerS)} acks/s, p50 ${formatNumber(r.ackP50Ms, 2)} ms, ` +
    `p99 ${formatNumber(r.ackP99Ms, 2)} ms, consumer p50 ${formatNumber(r.consumerP50Ms, 1)} ms / p99 ` +
    `${formatNumber(r.consumerP99Ms, 1)} ms, ${formatNumber(r.deliveriesPerS)} deliveries/s, ` +
    `undelivered ${r.undelivered}, conflicting ids ${r.conflictingIds}, failed ${r.failed}, VmHWM ${formatNumber(r.peakRssMb, 1)} MiB, ` +
    `CPU ${formatNumber(r.cpuMsPerAck, 3)} ms/ack`
  );
}

/** The markdown table README carries: medians over the rounds, with the targets from issue 5. */
export function formatTable(rounds: Rounds, seedEvents: number): string {
  const acks = med(rounds.skyrelay, (r) => r.ackedPerS);
  const bare = med(rounds.bare, (r) => r.ackedPerS);
  const seeded = med(rounds.seeded, (r) => r.ackedPerS);
  const p50 = med(rounds.skyrelay, (r) => r.ackP50Ms);
  const p99 = med(rounds.skyrelay, (r) => r.ackP99Ms);
  const c50 = med(rounds.skyrelay, (r) => r.consumerP50Ms);
  const c99 = med(rounds.skyrelay, (r) => r.consumerP99Ms);
  const delivered = med(rounds.skyrelay, (r) => r.deliveriesPerS);
  const daemons = [...rounds.skyrelay, ...rounds.seeded, ...rounds.normal];
  const rss = Math.max(...daemons.map((r) => r.peakRssMb));
  const lost = daemons.reduce((n, r) => n + r.undelivered, 0);
  const conflicting = daemons.reduce((n, r) => n + r.conflictingIds, 0);
  const rows: [string, string, string, string][] = [
    ['acknowledged callbacks/s (skyrelay, synchronous FULL)', formatNumber(acks), '', ''],
    ['callbacks/s (bare Koa + koa-bodyparser, no storage)', formatNumber(bare), '', ''],
    ['ratio skyrelay / bare Koa', formatNumber(acks / bare, 2), '≥ 0.60', verdict(acks / bare >= 0.6)],
    ['ack latency p50', `${formatNumber(p50, 2)} ms`, '', ''],
    ['ack latency p99', `${formatNumber(p99, 2)} ms`, '≤ 10 ms', verdict(p99 <= 10)],
    ['ack → consumer receipt p50', `${formatNumber(c50, 1)} ms`, '≤ 50 ms', verdict(c50 <= 50)],
    ['ack → consumer receipt p99', `${formatNumber(c99, 1)} ms`, '', ''],
    ['deliveries/s (received by the consumer during the load)', formatNumber(delivered), '', ''],
    [`acknowledged callbacks/s with ${formatNumber(seedEvents)} events stored`, formatNumber(seeded), '', ''],
    ['ratio full store / empty store', formatNumber(seeded / acks, 2), '≥ 0.90', verdict(seeded / acks >= 0.9)],
    [
      'peak RSS of the daemon (VmHWM, worst process)',
      `${formatNumber(rss, 0)} MiB`,
      '< 200 MB',
      verdict(rss * 1.048576 < 200),
    ],
    [
      'acknowledged but never delivered / delivered under two webhook-ids',
      `${lost} / ${conflicting}`,
      '0 / 0',
      verdict(lost === 0 && conflicting === 0),
    ],
  ];
  rows.push([
    'daemon CPU per acknowledged callback, delivery included (bare Koa: per request)',
    `${formatNumber(
      med(rounds.skyrelay, (r) => r.cpuMsPerAck),
      3,
    )} ms (${formatNumber(
      med(rounds.bare, (r) => r.cpuMsPerAck),
      3,
    )} ms)`,
    '',
    '',
  ]);
  if (rounds.baseline.length > 0) {
    const base = med(rounds.baseline, (r) => r.ackedPerS);
    rows.push([
      '(comparison) baseline build: acks/s; skyrelay / baseline; CPU per callback',
      `${formatNumber(base)}; ${formatNumber(acks / base, 2)}; ${formatNumber(
        med(rounds.baseline, (r) => r.cpuMsPerAck),
        3,
      )} ms`,
      '',
      '',
    ]);
  }
  if (rounds.normal.length > 0) {
    const normal = med(rounds.normal, (r) => r.ackedPerS);
    rows.push([
      '(for reference) acks/s with synchronous NORMAL; ratio to bare Koa',
      `${formatNumber(normal)}; ${formatNumber(normal / bare, 2)}`,
      '',
      '',
    ]);
    rows.push([
      '(for reference) NORMAL ack p99; ack → consumer p50',
      `${formatNumber(
        med(rounds.normal, (r) => r.ackP99Ms),
        2,
      )} ms; ${formatNumber(
        med(rounds.normal, (r) => r.consumerP50Ms),
        1,
      )} ms`,
      '',
      '',
    ]);
  }
  const onPostgres: [string, PhaseResult[]][] = [
    ['PostgreSQL, one instance', rounds.postgres],
    ['PostgreSQL, two instances on one database (summed)', rounds.postgresPair],
  ];
  for (const [name, results] of onPostgres) {
    if (results.length === 0) continue;
    const pgAcks = med(results, (r) => r.ackedPerS);
    rows.push([
      `(${name}) acks/s; ratio to bare Koa`,
      `${formatNumber(pgAcks)}; ${formatNumber(pgAcks / bare, 2)}`,
      '',
      '',
    ]);
    rows.push([
      `(${name}) ack p99; deliveries/s`,
      `${formatNumber(
        med(results, (r) => r.ackP99Ms),
        2,
      )} ms; ${formatNumber(med(results, (r) => r.deliveriesPerS))}`,
      '',
      '',
    ]);
    rows.push([
      `(${name}) acknowledged but never delivered / delivered under two webhook-ids`,
      `${results.reduce((n, r) => n + r.undelivered, 0)} / ${results.reduce((n, r) => n + r.conflictingIds, 0)}`,
      '',
      '',
    ]);
  }
  const lines = ['| measure | median of rounds | target | |', '| --- | ---: | --- | --- |'];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

export function describeMachine(): string {
  const cpu = os.cpus();
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return (
    `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${formatNumber(os.totalmem() / 2 ** 30, 0)} GiB RAM, ` +
    `Linux ${os.release()}, Node.js ${process.version}; load average ${load}`
  );
}
