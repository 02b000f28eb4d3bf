import { fork } from 'node:child_process';
import path from 'node:path';
import {
  headersFor,
  pollHealth,
  signIn,
  timedRequest,
  TimeoutError,
  type Credentials,
  type PageRequest,
} from './http-timing';
import type { ReadersReport, ReadersStart } from './history-readers';
import { driveLoad } from './load';
import { spawnBenchDaemon, WEBHOOK_SECRET } from './processes';
import { SEED_PARTNERS, type SeedSummary } from './seed';
import { formatNumber, median, percentile } from './stats';

/**
 * The history phase: skyrelay on a store seeded with a month of history (./seed.ts), on SQLite and on PostgreSQL,
 * this build and (BENCH_BASELINE_ENTRY) the baseline build alternating in every round, each on its own copy of the
 * seed. Per build and round it measures
 * - every dashboard page and admin list with each filter they offer, reloaded `samples` times: p95;
 * - a paced load (100 callbacks/s, one webhook) alone, then with three readers reloading those pages without pause:
 *   ack p99 and the longest /healthz answer, both ways;
 * and, on a fresh empty SQLite store, the light-load stall measurement: the same paced load, /healthz asked every
 * 10 ms, with the shipped timers (metrics publish, the dashboard's counts, silences, stuck check, retention).
 */

export const HISTORY_ADMIN_TOKEN = 'skyrelay-bench-admin-token-0001';

export interface HistorySettings {
  rounds: number;
  /** Requests per page per round (BENCH_HISTORY_SAMPLES). */
  samples: number;
  /** Seconds of each paced load (BENCH_HISTORY_SECONDS). */
  loadSeconds: number;
  /** Callbacks per second of the paced loads (BENCH_HISTORY_RATE). */
  rate: number;
  readers: number;
  /** The longest a page may take before it is recorded as over it and left out (BENCH_HISTORY_PAGE_CAP_MS). */
  pageCapMs: number;
  /** Seconds of the light-load stall measurement (BENCH_STALL_SECONDS; 0 leaves it out). */
  stallSeconds: number;
  prefix: string;
  sinkUrl: string;
  workDir: string;
  log: (line: string) => void;
}

/** One build on one store: where it runs and on which copy of the seed. */
export interface HistoryBuild {
  label: string;
  entry?: string | undefined;
  dbPath?: string;
  databaseUrl?: string;
}

export interface LoadStats {
  acked: number;
  failed: number;
  ackP50: number;
  ackP99: number;
  healthMax: number;
  healthP99: number;
  /** With readers: pages they were served, and failed; their times' p95. */
  pagesServed?: number;
  pagesFailed?: number;
  pageP95?: number;
}

export interface BuildRound {
  /** From spawning to listening (the first start on a seed migrates it). */
  startMs: number;
  pages: Map<string, number[]>;
  /** Pages that answered anything but 200: label and status. */
  refused: string[];
  alone: LoadStats;
  reading: LoadStats;
  peakRssMb: number;
}

export interface HistoryResult {
  store: 'sqlite' | 'postgres';
  seed: SeedSummary;
  seedSeconds: number;
  pages: PageRequest[];
  /** By build label: one entry per round. */
  rounds: Map<string, BuildRound[]>;
  pageCapMs: number;
  rate: number;
}

export interface StallResult {
  /** By build label: one entry per round. */
  rounds: Map<string, LoadStats[]>;
}

/** Every page and list a reader can ask for, with each filter they offer, on the seeded history. */
export function historyPages(seed: SeedSummary): PageRequest[] {
  const rarePartner = SEED_PARTNERS[SEED_PARTNERS.length - 1]?.[0] ?? 'Wallet@skypay';
  const partner = encodeURIComponent(rarePartner);
  const ui = (label: string, p: string): PageRequest => ({ label: `ui ${label}`, path: p, auth: 'session' });
  const admin = (label: string, p: string): PageRequest => ({ label: `admin ${label}`, path: p, auth: 'token' });
  return [
    ui('overview', '/ui'),
    ui('events', '/ui/events'),
    ui('events status=paid', '/ui/events?status=paid'),
    ui('events status=amendedFailure', '/ui/events?status=amendedFailure'),
    ui(`events partner=${rarePartner}`, `/ui/events?partner=${partner}`),
    ui(`events partner+status=failure`, `/ui/events?partner=${partner}&status=failure`),
    ui('events type=payout', '/ui/events?type=payout'),
    ui('events type=payout.anomaly', '/ui/events?type=payout.anomaly'),
    ui('events type=delivery.dead', '/ui/events?type=delivery.dead'),
    ui('events type=callback.conflict', '/ui/events?type=callback.conflict'),
    ui('events type=payout.confirmed', '/ui/events?type=payout.confirmed'),
    ui('events controlNumber', `/ui/events?controlNumber=${seed.sampleControlNumber}`),
    ui('events since=1h', '/ui/events?since=1h'),
    ui('events until=20d', '/ui/events?until=20d'),
    ui('events since=8d until=7d', '/ui/events?since=8d&until=7d'),
    ui('event detail', `/ui/events/${seed.sampleEventId}`),
    ui('deliveries', '/ui/deliveries'),
    ui('deliveries state=pending', '/ui/deliveries?state=pending'),
    ui('deliveries state=inflight', '/ui/deliveries?state=inflight'),
    ui('deliveries state=dead', '/ui/deliveries?state=dead'),
    ui('deliveries state=delivered', '/ui/deliveries?state=delivered'),
    ui('deliveries destination=email', '/ui/deliveries?destination=email'),
    ui('deliveries destination=slack', '/ui/deliveries?destination=slack'),
    ui('deliveries dead+email', '/ui/deliveries?state=dead&destination=email'),
    ui('deliveries since=1h', '/ui/deliveries?since=1h'),
    ui('rejections', '/ui/rejections'),
    ui('rejections reason=busy', '/ui/rejections?reason=busy'),
    ui('rejections reason=unauthenticated', '/ui/rejections?reason=unauthenticated'),
    ui('rejections since=1h', '/ui/rejections?since=1h'),
    ui('payouts', '/ui/payouts'),
    ui('payouts state=open', '/ui/payouts?state=open'),
    ui('payouts state=paid', '/ui/payouts?state=paid'),
    ui('payouts state=amendedSuccess', '/ui/payouts?state=amendedSuccess'),
    ui(`payouts partner=${rarePartner}`, `/ui/payouts?partner=${partner}`),
    ui('payouts state=uploaded+partner', `/ui/payouts?state=uploaded&partner=${partner}`),
    ui('payouts anomalies', '/ui/payouts?anomalies=1'),
    ui('payouts confirmation=pending', '/ui/payouts?confirmation=pending'),
    ui('payouts confirmation=contradicted', '/ui/payouts?confirmation=contradicted'),
    ui('payouts olderThan=20d', '/ui/payouts?olderThan=20d'),
    ui('payouts view=stuck', '/ui/payouts?view=stuck'),
    ui('payout detail', `/ui/payouts/${seed.sampleControlNumber}`),
    ui('silences', '/ui/silences'),
    ui('destinations', '/ui/destinations'),
    admin('events', '/admin/events'),
    admin('events status=failure', '/admin/events?status=failure'),
    admin('events type=payout.stuck', '/admin/events?type=payout.stuck'),
    admin('events type=rejection', '/admin/events?type=rejection'),
    admin('events limit=1000', '/admin/events?limit=1000'),
    admin('event detail', `/admin/events/${seed.sampleEventId}`),
    admin('deliveries state=pending', '/admin/deliveries?state=pending'),
    admin('deliveries state=dead', '/admin/deliveries?state=dead'),
    admin('deliveries destination=slack', '/admin/deliveries?destination=slack'),
    admin('rejections reason=too_large', '/admin/rejections?reason=too_large'),
    admin('payouts', '/admin/payouts'),
    admin('payouts state=failed', '/admin/payouts?state=failed'),
    admin(`payouts partner=${rarePartner}`, `/admin/payouts?partner=${partner}`),
    admin('payouts anomalies', '/admin/payouts?anomalies=true'),
    admin('payouts confirmation=pending', '/admin/payouts?confirmation=pending'),
    admin('payout detail', `/admin/payouts/${seed.sampleControlNumber}`),
    { label: 'metrics scrape', path: '/metrics', auth: 'none' },
  ];
}

/** The daemon as an operator with a dashboard runs it: a webhook for everything, failures grouped to Slack, alerts by email. */
function historyConfig(sinkUrl: string): Record<string, unknown> {
  return {
    admin: { token: HISTORY_ADMIN_TOKEN },
    destinations: {
      webhook: { type: 'webhook', url: `${sinkUrl}/`, secret: WEBHOOK_SECRET },
      slack: { type: 'slack', url: `${sinkUrl}/slack`, group: {} },
      // Nothing in the loads raises an alert: the destination is there for the pages that list it.
      email: { type: 'email', transport: 'smtp://127.0.0.1:9', from: 'skyrelay@example.com', to: ['ops@example.com'] },
    },
    rules: [
      { name: 'all', to: ['webhook'] },
      { name: 'failures', match: { status: ['failure', 'amendedFailure'] }, to: ['slack'] },
      { name: 'alerts', match: { type: ['payout.anomaly', 'delivery.dead', 'callback.conflict'] }, to: ['email'] },
    ],
    // The shipped interval (the throughput phases publish every 500 ms to count statements soon after a load).
    metrics: { publishIntervalMs: 5_000 },
  };
}

const baseOf = (callbackUrl: string): string => new URL(callbackUrl).origin;

async function startDaemon(build: HistoryBuild, label: string, s: HistorySettings, config: Record<string, unknown>) {
  const started = Date.now();
  const daemon = await spawnBenchDaemon({
    label,
    dbPath: build.dbPath ?? path.join(s.workDir, 'unused.db'),
    ...(build.databaseUrl === undefined ? {} : { databaseUrl: build.databaseUrl }),
    sinkUrl: s.sinkUrl,
    synchronous: 'FULL',
    logFile: path.join(s.workDir, `${label.replace(/[^a-z0-9-]+/gi, '-')}.log`),
    maxInFlight: undefined,
    ingestOnly: false,
    ...(build.entry === undefined ? {} : { entry: build.entry }),
    config,
    startTimeoutMs: 30 * 60_000,
  });
  return { daemon, startMs: Date.now() - started, baseUrl: baseOf(daemon.callbackUrl) };
}

/**
 * Each page `samples` times in turn (after one unmeasured request each), or for at most 10 s a page. A page whose
 * first answer takes longer than `capMs` is recorded as over it, and the daemon restarted (its query would hold it
 * for longer still); one taking over a sixth of that is measured once. Either way this build is not asked for it
 * again in later rounds (`slow` keeps what was measured): a build that takes minutes for a page would make the run
 * take hours, and one more sample would not change the verdict.
 */
async function measurePages(
  session: { baseUrl: string; credentials: Credentials; restart(): Promise<void> },
  pages: readonly PageRequest[],
  samples: number,
  capMs: number,
  slow: Map<string, number[]>,
): Promise<{ times: Map<string, number[]>; refused: string[] }> {
  const times = new Map<string, number[]>();
  const refused: string[] = [];
  for (const page of pages) {
    const known = slow.get(page.label);
    if (known !== undefined) {
      times.set(page.label, known);
      continue;
    }
    const url = () => `${session.baseUrl}${page.path}`;
    const headers = () => headersFor(page, session.credentials);
    let first;
    try {
      first = await timedRequest(url(), { headers: headers(), timeoutMs: capMs });
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      slow.set(page.label, [Infinity]);
      times.set(page.label, [Infinity]);
      await session.restart();
      continue;
    }
    if (first.status !== 200) refused.push(`${page.label}: ${first.status}`);
    const own: number[] = [];
    const until = performance.now() + 10_000;
    while (own.length < samples && (own.length < 3 || performance.now() < until)) {
      own.push((await timedRequest(url(), { headers: headers() })).ms);
      if (first.ms > capMs / 6) break;
    }
    if (first.ms > capMs / 6) slow.set(page.label, own);
    times.set(page.label, own);
  }
  return { times, refused };
}

/** Forks the readers (./history-readers.ts) and starts them; stop() resolves what they were served. */
async function startReaders(o: ReadersStart): Promise<{ stop(): Promise<ReadersReport> }> {
  const child = fork(path.join(__dirname, 'history-readers.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', () => reject(new Error('readers exited before starting')));
    child.send(o);
  });
  return {
    stop: () =>
      new Promise<ReadersReport>((resolve) => {
        child.once('message', (report: ReadersReport) => resolve(report));
        child.send({ cmd: 'stop' });
      }),
  };
}

/** A paced load with /healthz asked every `healthEveryMs`, and readers if asked for. */
async function pacedLoad(
  callbackUrl: string,
  s: HistorySettings,
  seconds: number,
  healthEveryMs: number,
  readers?: ReadersStart,
): Promise<LoadStats> {
  const reading = readers ? await startReaders(readers) : undefined;
  const health = pollHealth(`${baseOf(callbackUrl)}/healthz`, healthEveryMs);
  const load = await driveLoad(callbackUrl, { connections: 8, seconds, prefix: s.prefix, rate: s.rate });
  const healthTimes = await health.stop();
  const report = await reading?.stop();
  return {
    acked: load.acked,
    failed: load.failed,
    ackP50: percentile(load.latenciesMs, 50),
    ackP99: percentile(load.latenciesMs, 99),
    healthMax: Math.max(...healthTimes),
    healthP99: percentile(healthTimes, 99),
    ...(report
      ? { pagesServed: report.served, pagesFailed: report.failed, pageP95: percentile(report.times, 95) }
      : {}),
  };
}

/** One build, one round, on its seeded store: pages, then the paced load alone and with readers. */
export async function measureHistoryRound(
  build: HistoryBuild,
  round: number,
  pages: PageRequest[],
  s: HistorySettings,
  store: string,
  /** Pages this build answered slowly in an earlier round (see measurePages): not asked again. */
  slow: Map<string, number[]>,
): Promise<BuildRound> {
  const label = `history-${store}-${build.label}-round${round}`;
  const config = historyConfig(s.sinkUrl);
  let started = await startDaemon(build, label, s, config);
  const startMs = started.startMs;
  const session = {
    baseUrl: started.baseUrl,
    credentials: { cookie: await signIn(started.baseUrl, HISTORY_ADMIN_TOKEN), token: HISTORY_ADMIN_TOKEN },
    async restart() {
      await started.daemon.stop();
      started = await startDaemon(build, `${label}-again`, s, config);
      this.baseUrl = started.baseUrl;
      this.credentials = { cookie: await signIn(started.baseUrl, HISTORY_ADMIN_TOKEN), token: HISTORY_ADMIN_TOKEN };
    },
  };
  try {
    const { times, refused } = await measurePages(session, pages, s.samples, s.pageCapMs, slow);
    const callbackUrl = started.daemon.callbackUrl;
    // Warm-up of the callback path, unmeasured.
    await driveLoad(callbackUrl, { connections: 8, seconds: 3, prefix: s.prefix, rate: s.rate });
    const alone = await pacedLoad(callbackUrl, s, s.loadSeconds, 20);
    const reading = await pacedLoad(callbackUrl, s, s.loadSeconds, 20, {
      baseUrl: session.baseUrl,
      credentials: session.credentials,
      // Pages this build answers at all: one that holds it for minutes would measure only that.
      pages: pages.filter((p) => !(slow.get(p.label) ?? []).includes(Infinity)),
      readers: s.readers,
    });
    const result = { startMs, pages: times, refused, alone, reading, peakRssMb: started.daemon.readPeakRssMb() };
    s.log(formatRoundLine(`${store} ${build.label} round ${round}`, result));
    return result;
  } finally {
    await started.daemon.stop();
  }
}

/** The light-load stall measurement on a fresh store: the shipped timers, /healthz every 10 ms. */
export async function measureStallRound(
  build: HistoryBuild,
  round: number,
  s: HistorySettings,
  dbPath: string,
): Promise<LoadStats> {
  const label = `stall-${build.label}-round${round}`;
  const { daemon } = await startDaemon({ ...build, dbPath }, label, s, {
    ...historyConfig(s.sinkUrl),
    destinations: { sink: { type: 'webhook', url: `${s.sinkUrl}/`, secret: WEBHOOK_SECRET } },
    rules: [{ name: 'all', to: ['sink'] }],
  });
  try {
    await driveLoad(daemon.callbackUrl, { connections: 8, seconds: 3, prefix: s.prefix, rate: s.rate });
    const stats = await pacedLoad(daemon.callbackUrl, s, s.stallSeconds, 10);
    s.log(
      `stall ${build.label} round ${round}: ${formatNumber(stats.acked)} acked, ack p50 ${formatNumber(stats.ackP50, 2)} ms, ` +
        `p99 ${formatNumber(stats.ackP99, 2)} ms; /healthz max ${formatNumber(stats.healthMax, 1)} ms, ` +
        `p99 ${formatNumber(stats.healthP99, 1)} ms`,
    );
    return stats;
  } finally {
    await daemon.stop();
  }
}

function formatRoundLine(what: string, r: BuildRound): string {
  const all = [...r.pages.values()].map((t) => percentile(t, 95));
  const worst = [...r.pages].sort((a, b) => percentile(b[1], 95) - percentile(a[1], 95))[0];
  return (
    `${what}: started in ${formatNumber(r.startMs / 1000, 1)} s; pages p95 median ${formatNumber(median(all), 1)} ms, ` +
    `worst ${worst?.[0]} ${formatNumber(percentile(worst?.[1] ?? [], 95), 1)} ms` +
    (r.refused.length ? `, REFUSED ${r.refused.join('; ')}` : '') +
    `; paced ack p99 ${formatNumber(r.alone.ackP99, 2)} ms alone, ${formatNumber(r.reading.ackP99, 2)} ms with ` +
    `readers; /healthz max ${formatNumber(r.alone.healthMax, 1)} / ${formatNumber(r.reading.healthMax, 1)} ms; ` +
    `readers served ${r.reading.pagesServed ?? 0} pages (p95 ${formatNumber(r.reading.pageP95 ?? NaN, 1)} ms, ` +
    `failed ${r.reading.pagesFailed ?? 0})`
  );
}

/** Median of the rounds, and their range when there are several; a page over the cap says so. */
function spread(values: number[], digits = 1, capMs?: number, unit = ' ms'): string {
  if (capMs !== undefined && values.some((v) => v === Infinity)) return `> ${formatNumber(capMs / 1000, 0)} s`;
  const m = `${formatNumber(median(values), digits)}${unit}`;
  if (values.length < 2) return m;
  return `${m} (${formatNumber(Math.min(...values), digits)}–${formatNumber(Math.max(...values), digits)})`;
}

/** The history phase's tables: page p95s per build (median of rounds, range), reader impact, start. */
export function formatHistory(result: HistoryResult): string {
  const labels = [...result.rounds.keys()];
  const lines: string[] = [];
  const store = result.store === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  lines.push(
    `History on ${store}: ${formatNumber(result.seed.events)} events, ${formatNumber(result.seed.payouts)} payouts, ` +
      `${formatNumber(result.seed.deliveries)} deliveries, ${formatNumber(result.seed.attempts)} attempts, ` +
      `${formatNumber(result.seed.rejections)} rejections (seeded in ${formatNumber(result.seedSeconds, 0)} s).`,
    '',
  );
  const p95 = (label: string, page: string): number[] =>
    (result.rounds.get(label) ?? []).map((r) => percentile(r.pages.get(page) ?? [], 95));
  const header = ['page (p95, median of rounds)', ...labels.map((l) => `${l}`)];
  if (labels.length === 2) header.push(`${labels[0]} / ${labels[1]}`);
  lines.push(`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const page of result.pages) {
    const cells = labels.map((l) => spread(p95(l, page.label), 1, result.pageCapMs));
    if (labels.length === 2) {
      cells.push(
        formatNumber(median(p95(labels[0] as string, page.label)) / median(p95(labels[1] as string, page.label)), 2),
      );
    }
    lines.push(`| ${page.label} | ${cells.join(' | ')} |`);
  }
  const worst = (label: string) =>
    (result.rounds.get(label) ?? []).map((r) => Math.max(...[...r.pages.values()].map((t) => percentile(t, 95))));
  lines.push(
    `| **worst page** | ${labels.map((l) => spread(worst(l), 1, result.pageCapMs)).join(' | ')} |${labels.length === 2 ? ' |' : ''}`,
  );
  lines.push(
    '',
    `| paced ${result.rate} callbacks/s, one webhook | ${labels.join(' | ')} |`,
    `| --- |${labels.map(() => ' ---: |').join('')}`,
  );
  const row = (name: string, pick: (r: BuildRound) => number, digits = 1, unit = ' ms') =>
    lines.push(
      `| ${name} | ${labels
        .map((l) => spread((result.rounds.get(l) ?? []).map(pick), digits, undefined, unit))
        .join(' | ')} |`,
    );
  row('ack p99 alone', (r) => r.alone.ackP99, 2);
  row('ack p99 with readers', (r) => r.reading.ackP99, 2);
  row('ack p99 raised by readers (target ≤ 10 ms)', (r) => r.reading.ackP99 - r.alone.ackP99, 2);
  row('/healthz max alone', (r) => r.alone.healthMax);
  row('/healthz max with readers (target ≤ 50 ms)', (r) => r.reading.healthMax);
  row('callbacks not acknowledged (alone / with readers)', (r) => r.alone.failed + r.reading.failed, 0, '');
  row('pages served to the readers', (r) => r.reading.pagesServed ?? 0, 0, '');
  row('their p95', (r) => r.reading.pageP95 ?? NaN);
  row('peak RSS of the daemon (VmHWM)', (r) => r.peakRssMb, 0, ' MiB');
  row('start (first round: migrating the seed)', (r) => r.startMs, 0);
  const refused = [...result.rounds].flatMap(([l, rs]) => rs.flatMap((r) => r.refused.map((x) => `${l}: ${x}`)));
  if (refused.length) lines.push('', `Refused pages: ${[...new Set(refused)].join('; ')}`);
  return lines.join('\n');
}

export function formatStall(result: StallResult, rate: number, seconds: number): string {
  const labels = [...result.rounds.keys()];
  const lines = [
    `Light load: ${rate} callbacks/s paced for ${seconds} s, one webhook, empty store, shipped timers; /healthz every 10 ms.`,
    '',
    `| measure | ${labels.join(' | ')} |`,
    `| --- |${labels.map(() => ' ---: |').join('')}`,
  ];
  const row = (name: string, pick: (r: LoadStats) => number, digits = 1) =>
    lines.push(
      `| ${name} | ${labels.map((l) => spread((result.rounds.get(l) ?? []).map(pick), digits)).join(' | ')} |`,
    );
  row('ack p50', (r) => r.ackP50, 2);
  row('ack p99 (target ≤ 15 ms)', (r) => r.ackP99, 2);
  row('/healthz max (target ≤ 50 ms)', (r) => r.healthMax);
  row('/healthz p99', (r) => r.healthP99);
  return lines.join('\n');
}
