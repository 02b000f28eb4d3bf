import type { ChildProcess } from 'node:child_process';
import { driveLoad, type LoadResult } from './load';
import type { BenchServer } from './processes';
import type { Receipt, SinkReply, SinkRequest } from './sink';
import { percentile } from './stats';

/** What one load phase against one server measured. */
export interface PhaseResult {
  label: string;
  ackedPerS: number;
  failed: number;
  ackP50Ms: number;
  ackP99Ms: number;
  /** Ack to the consumer's receipt, over acknowledged callbacks the sink saw. */
  consumerP50Ms: number;
  consumerP99Ms: number;
  /** Deliveries the sink received while the load ran, per second of load. */
  deliveriesPerS: number;
  /** From the end of the load until the last acknowledged callback reached the sink (0 if all came during the load). */
  drainedMs: number;
  /** Acknowledged callbacks the sink had not seen when the drain wait ended. */
  undelivered: number;
  /** Control numbers delivered more than once with different webhook-ids. */
  conflictingIds: number;
  peakRssMb: number;
  /** Server CPU per acknowledged callback, from the start of the load until its deliveries arrived. */
  cpuMsPerAck: number;
  /** Statements sent to the store per acknowledged callback (PostgreSQL: round trips), NaN when not counted. */
  statementsPerAck: number;
}

const now = (): number => performance.timeOrigin + performance.now();

/** Talks to the sink process over IPC, one question at a time. */
export function connectSink(child: ChildProcess) {
  const ask = (request: SinkRequest): Promise<SinkReply> =>
    new Promise((resolve) => {
      child.once('message', (m: SinkReply) => resolve(m));
      child.send(request);
    });
  return {
    take: async () => (await ask({ cmd: 'take' })).receipts,
  };
}

export type Sink = ReturnType<typeof connectSink>;

export interface PhaseOptions {
  connections: number;
  seconds: number;
  warmupSeconds: number;
  prefix: string;
  drainMs: number;
  rate?: number;
}

/** Warm up (and let that drain), then measure one load phase against a server; the sink is optional (bare Koa delivers nothing). */
export async function measurePhase(server: BenchServer, sink: Sink | undefined, o: PhaseOptions): Promise<PhaseResult> {
  const warm = await driveSplitLoad(server, {
    connections: o.connections,
    seconds: o.warmupSeconds,
    prefix: o.prefix,
  });
  if (sink) await collectReceipts(sink, warm.ackedAt, o.drainMs);
  const statementsBefore = await server.readStatements();
  const cpuBefore = server.readCpuMs();
  const loadStart = now();
  const load = await driveSplitLoad(server, {
    connections: o.connections,
    seconds: o.seconds,
    prefix: o.prefix,
    ...(o.rate ? { rate: o.rate } : {}),
  });
  const loadEnd = now();
  const receipts = sink ? await collectReceipts(sink, load.ackedAt, o.drainMs) : [];
  const cpuMsPerAck = (server.readCpuMs() - cpuBefore) / load.acked;
  const statementsPerAck = await countStatements(server, statementsBefore, load.acked);
  return {
    ...summarize(server, load, receipts, loadStart, loadEnd, sink !== undefined),
    cpuMsPerAck,
    statementsPerAck,
  };
}

/** Statements per acknowledged callback, once the daemons have published their counts (every 500 ms). */
async function countStatements(server: BenchServer, before: number | undefined, acked: number): Promise<number> {
  if (before === undefined) return NaN;
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  const after = await server.readStatements();
  return after === undefined ? NaN : (after - before) / acked;
}

/**
 * One server: driveLoad as it is. Several (combineServers): the connections
 * and any fixed rate split evenly, all driven at once, the observations
 * merged; control numbers stay unique because they share one sequence.
 */
async function driveSplitLoad(server: BenchServer, options: Parameters<typeof driveLoad>[1]): Promise<LoadResult> {
  const urls = server.callbackUrls ?? [server.callbackUrl];
  if (urls.length === 1) return driveLoad(server.callbackUrl, options);
  const results = await Promise.all(
    urls.map((url, i) =>
      driveLoad(url, {
        ...options,
        connections: Math.floor(options.connections / urls.length) + (i < options.connections % urls.length ? 1 : 0),
        ...(options.rate ? { rate: options.rate / urls.length } : {}),
      }),
    ),
  );
  const ackedAt = new Map<string, number>();
  for (const r of results) for (const [controlNumber, at] of r.ackedAt) ackedAt.set(controlNumber, at);
  return {
    durationS: Math.max(...results.map((r) => r.durationS)),
    acked: ackedAt.size,
    failed: results.reduce((n, r) => n + r.failed, 0),
    latenciesMs: results.flatMap((r) => r.latenciesMs),
    ackedAt,
  };
}

/**
 * Takes receipts until every acknowledged control number has arrived (or
 * time runs out). Counting is not enough: callbacks cut off when the load
 * stopped were stored but never acknowledged, and are delivered too.
 */
async function collectReceipts(sink: Sink, acked: ReadonlyMap<string, number>, timeoutMs: number): Promise<Receipt[]> {
  const deadline = Date.now() + timeoutMs;
  const receipts: Receipt[] = [];
  const seen = new Set<string>();
  for (;;) {
    for (const r of await sink.take()) {
      receipts.push(r);
      if (acked.has(r.controlNumber)) seen.add(r.controlNumber);
    }
    if (seen.size >= acked.size || Date.now() > deadline) return receipts;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function summarize(
  server: BenchServer,
  load: LoadResult,
  receipts: Receipt[],
  loadStart: number,
  loadEnd: number,
  delivers: boolean,
): Omit<PhaseResult, 'cpuMsPerAck' | 'statementsPerAck'> {
  const delays: number[] = [];
  const idsByControl = new Map<string, Set<string>>();
  let duringLoad = 0;
  let lastReceipt = loadEnd;
  for (const r of receipts) {
    const ackAt = load.ackedAt.get(r.controlNumber);
    if (ackAt === undefined) continue;
    lastReceipt = Math.max(lastReceipt, r.at);
    const ids = idsByControl.get(r.controlNumber) ?? new Set<string>();
    if (ids.size === 0) delays.push(r.at - ackAt);
    ids.add(r.webhookId);
    idsByControl.set(r.controlNumber, ids);
    if (r.at >= loadStart && r.at <= loadEnd) duringLoad += 1;
  }
  return {
    label: server.label,
    ackedPerS: load.acked / load.durationS,
    failed: load.failed,
    ackP50Ms: percentile(load.latenciesMs, 50),
    ackP99Ms: percentile(load.latenciesMs, 99),
    consumerP50Ms: delivers ? percentile(delays, 50) : NaN,
    consumerP99Ms: delivers ? percentile(delays, 99) : NaN,
    deliveriesPerS: delivers ? duringLoad / ((loadEnd - loadStart) / 1000) : NaN,
    drainedMs: delivers ? lastReceipt - loadEnd : NaN,
    undelivered: delivers ? load.acked - idsByControl.size : 0,
    conflictingIds: [...idsByControl.values()].filter((ids) => ids.size > 1).length,
    peakRssMb: server.readPeakRssMb(),
  };
}
