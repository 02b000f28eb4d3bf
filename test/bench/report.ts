import os from 'node:os';
import type { PhaseResult } from './phases';
import { formatNumber, median } from './stats';

export interface Rounds {
  skyrelay: PhaseResult[];
  bare: PhaseResult[];
  /** The minimal durable server (durable-koa.ts): the limit for a durable acknowledgement. */
  durable: PhaseResult[];
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
    `drained ${formatNumber(r.drainedMs, 0)} ms after, ` +
    `undelivered ${r.undelivered}, conflicting ids ${r.conflictingIds}, failed ${r.failed}, VmHWM ${formatNumber(r.peakRssMb, 1)} MiB, ` +
    `CPU ${formatNumber(r.cpuMsPerAck, 3)} ms/ack, statements ${formatNumber(r.statementsPerAck, 2)}/ack`
  );
}

/** The markdown table docs/performance.md carries: medians over the rounds, with their targets. */
export function formatTable(rounds: Rounds, seedEvents: number): string {
  const acks = med(rounds.skyrelay, (r) => r.ackedPerS);
  const bare = med(rounds.bare, (r) => r.ackedPerS);
  const durable = med(rounds.durable, (r) => r.ackedPerS);
  const drained = med(rounds.skyrelay, (r) => r.drainedMs);
  const cpu = med(rounds.skyrelay, (r) => r.cpuMsPerAck);
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
    [
      'callbacks/s (minimal durable server: Koa + group-commit insert, FULL)',
      formatNumber(durable),
      formatNumber(durable / bare, 2) + ' of bare Koa',
      '',
    ],
    [
      'ratio skyrelay / minimal durable server',
      formatNumber(acks / durable, 2),
      '≥ 0.85',
      verdict(acks / durable >= 0.85),
    ],
    ['ratio skyrelay / bare Koa', formatNumber(acks / bare, 2), '≥ 0.45', verdict(acks / bare >= 0.45)],
    ['ack latency p50', `${formatNumber(p50, 2)} ms`, '', ''],
    ['ack latency p99', `${formatNumber(p99, 2)} ms`, '≤ 15 ms', verdict(p99 <= 15)],
    ['ack → consumer receipt p50', `${formatNumber(c50, 1)} ms`, '≤ 50 ms', verdict(c50 <= 50)],
    ['ack → consumer receipt p99', `${formatNumber(c99, 1)} ms`, '≤ 250 ms', verdict(c99 <= 250)],
    ['deliveries/s (received by the consumer during the load)', formatNumber(delivered), '', ''],
    [
      'ratio deliveries during the load / acknowledged callbacks',
      formatNumber(delivered / acks, 2),
      '≥ 0.90',
      verdict(delivered / acks >= 0.9),
    ],
    [
      'backlog delivered this long after the load stopped',
      `${formatNumber(drained, 0)} ms`,
      '≤ 1000 ms',
      verdict(drained <= 1000),
    ],
    [
      'daemon CPU per acknowledged and delivered callback (bare Koa: per request)',
      `${formatNumber(cpu, 3)} ms (${formatNumber(
        med(rounds.bare, (r) => r.cpuMsPerAck),
        3,
      )} ms)`,
      '≤ 0.45 ms',
      verdict(cpu <= 0.45),
    ],
    ...(rounds.seeded.length === 0
      ? []
      : ([
          [`acknowledged callbacks/s with ${formatNumber(seedEvents)} events stored`, formatNumber(seeded), '', ''],
          ['ratio full store / empty store', formatNumber(seeded / acks, 2), '≥ 0.90', verdict(seeded / acks >= 0.9)],
        ] as [string, string, string, string][])),
    [
      'peak RSS of the daemon (VmHWM, worst process)',
      `${formatNumber(rss, 0)} MiB`,
      '≤ 200 MB',
      verdict(rss * 1.048576 <= 200),
    ],
    [
      'acknowledged but never delivered / delivered under two webhook-ids',
      `${lost} / ${conflicting}`,
      '0 / 0',
      verdict(lost === 0 && conflicting === 0),
    ],
  ];
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
      `(${name}) acks/s / SQLite's in the same run`,
      formatNumber(pgAcks / acks, 2),
      '≥ 0.5',
      verdict(pgAcks / acks >= 0.5),
    ]);
    const trips = med(results, (r) => r.statementsPerAck);
    rows.push([`(${name}) round trips per callback`, formatNumber(trips, 2), '≤ 2', verdict(trips <= 2)]);
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
