import path from 'node:path';
import type { RelayEvent } from '../../src/event';
import type { RuleConfig } from '../../src/routing/schema';
import { buildPayoutEvent } from '../support/fixtures';
import { formatNumber, median } from './stats';

/**
 * `node .build-test/test/bench/matching.js`: what routing one callback costs with rules that use `regex` (the
 * hot path: every callback is routed in its request), this build against another's dist (BENCH_BASELINE_DIST,
 * e.g. the parent commit's), alternating rounds so the shared machine's noise falls on both. Also the worst
 * case each engine allows: ^(a+)+$ against a 4 KB text this build tests (26 characters and a "!" for the old
 * engine: more would not finish). Settings: BENCH_ROUNDS (5), BENCH_EVENTS (200,000 per round).
 */
type Route = (event: RelayEvent, rules: unknown) => unknown[];
interface Build {
  label: string;
  compileRules: (rules: readonly RuleConfig[]) => unknown;
  routeEvent: Route;
}

function load(label: string, dist: string): Build {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const match = require(path.join(dist, 'routing', 'match.js')) as Omit<Build, 'label'>;
  return { label, ...match };
}

/** Rules as an operator writes them: statuses, a partner, and the patterns this bench is about. */
const RULES: RuleConfig[] = [
  { name: 'failures', match: { payType: ['failure', 'amendedFailure'] }, to: ['ops-slack'] },
  { name: 'timeouts', match: { failDescription: { regex: '[Tt]ime ?out|timed out' } }, to: ['ops-email'] },
  { name: 'balance', match: { failDescription: { regex: '^Insufficient (balance|funds)' } }, to: ['treasury'] },
  { name: 'acme', match: { controlNumber: { regex: '^SKY\\d{10}$' }, partner: 'Acme@skypay' }, to: ['acme'] },
  { name: 'feed', to: ['ledger'] },
];

const DESCRIPTIONS = [
  null,
  'Insufficient balance at the partner bank',
  'Channel timed out after 30 s',
  'Account closed by the beneficiary bank; refund initiated, reference 00918273645',
];

function events(): RelayEvent[] {
  return DESCRIPTIONS.flatMap((failDescription, i) => [
    buildPayoutEvent({ failDescription, controlNumber: `SKY${String(1_000_000_000 + i)}`, partner: 'Acme@skypay' }),
    buildPayoutEvent({ failDescription, controlNumber: `CN-${i}`, payType: 2, status: 'paid' }),
  ]);
}

function nsPerEvent(build: Build, count: number): number {
  const rules = build.compileRules(RULES);
  const sample = events();
  let routes = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) routes += build.routeEvent(sample[i % sample.length] as RelayEvent, rules).length;
  const ns = Number(process.hrtime.bigint() - started) / count;
  if (routes === 0) throw new Error('no event routed: the bench measures nothing');
  return ns;
}

function worstCaseMs(build: Build, text: string): number {
  const rules = build.compileRules([{ name: 'r', match: { failDescription: { regex: '^(a+)+$' } }, to: ['d'] }]);
  const event = buildPayoutEvent({ failDescription: text });
  const started = process.hrtime.bigint();
  build.routeEvent(event, rules);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function main(): void {
  const rounds = Number(process.env['BENCH_ROUNDS'] ?? 5);
  const count = Number(process.env['BENCH_EVENTS'] ?? 200_000);
  const builds = [load('this build', path.join(__dirname, '..', '..', 'src'))];
  const baseline = process.env['BENCH_BASELINE_DIST'];
  if (baseline !== undefined) builds.push(load('baseline', path.resolve(baseline)));
  const samples = new Map<string, number[]>(builds.map((b) => [b.label, []]));
  for (const build of builds) nsPerEvent(build, count / 10); // warm up
  for (let round = 0; round < rounds; round++) {
    for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
      samples.get(build.label)?.push(nsPerEvent(build, count));
    }
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `routing one callback through ${RULES.length} rules (3 with regex, written in the syntax both engines read), median of ${rounds} rounds:`,
  );
  for (const build of builds) out(`  ${build.label}: ${formatNumber(median(samples.get(build.label) ?? []))} ns`);
  if (builds.length === 2) {
    const ratio = median(samples.get('this build') ?? []) / median(samples.get('baseline') ?? []);
    out(`  ratio this build / baseline: ${formatNumber(ratio, 2)}`);
  }
  const [current, old] = builds;
  if (current)
    out(
      `^(a+)+$ on 4,096 a's and "!", this build: ${formatNumber(worstCaseMs(current, `${'a'.repeat(4096)}!`), 2)} ms`,
    );
  if (old) out(`^(a+)+$ on 26 a's and "!", baseline: ${formatNumber(worstCaseMs(old, `${'a'.repeat(26)}!`), 0)} ms`);
}

main();
