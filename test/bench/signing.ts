import { generateEd25519Key } from '../../src/destinations/keys';
import { createWebhookSigner, type SigningConfig } from '../../src/destinations/signing';
import { writeEnvelope } from '../../src/destinations/webhook';
import { buildPayoutEvent } from '../support/fixtures';
import { describeMachine } from './report';
import { formatNumber, median } from './stats';

/**
 * `npm run bench:signing`: what signing costs per attempt, in µs, by how many secrets sign (a rotation window
 * signs with two) and with Ed25519 on, as ratios to one secret measured in the same rounds. The body is a real
 * payout envelope as a webhook sends it. Settings: BENCH_SIGNING_ROUNDS, BENCH_SIGNING_MS (per case per round).
 */

const rounds = Number(process.env['BENCH_SIGNING_ROUNDS'] ?? 7);
const msPerCase = Number(process.env['BENCH_SIGNING_MS'] ?? 300);

const secret = (fill: number) => `whsec_${Buffer.alloc(32, fill).toString('base64')}`;
const key = generateEd25519Key().privateKey;
const cases: Array<[string, SigningConfig]> = [
  ['1 secret', { secret: secret(1) }],
  [
    '2 secrets (rotation)',
    { secrets: [{ secret: secret(1) }, { secret: secret(2), expiresAt: '2999-01-01T00:00:00Z' }] },
  ],
  ['ed25519 only', { signing: 'ed25519', privateKey: key }],
  ['1 secret + ed25519', { secret: secret(1), signing: 'ed25519', privateKey: key }],
  [
    '2 secrets + ed25519',
    {
      secrets: [{ secret: secret(1) }, { secret: secret(2), expiresAt: '2999-01-01T00:00:00Z' }],
      signing: 'ed25519',
      privateKey: key,
    },
  ],
];

const event = buildPayoutEvent();
const body = writeEnvelope(event);

/** µs per sign() over about msPerCase of signing. */
function measure(config: SigningConfig): number {
  const signer = createWebhookSigner(config);
  const now = Date.now();
  let n = 0;
  const started = process.hrtime.bigint();
  const budget = BigInt(msPerCase) * 1_000_000n;
  let elapsed: bigint;
  do {
    for (let i = 0; i < 100; i++) signer.sign('dlv_01J8Z6Q3K2M4N5P6R7S8T9V0X1', body, now + n + i);
    n += 100;
    elapsed = process.hrtime.bigint() - started;
  } while (elapsed < budget);
  return Number(elapsed) / 1000 / n;
}

function main(): void {
  process.stderr.write(`machine: ${describeMachine()}\nbody: ${Buffer.byteLength(body)} bytes; ${rounds} rounds\n`);
  for (const [, config] of cases) measure(config); // warm-up
  const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  // Cases alternate within each round, so noise from the shared machine falls on all of them.
  for (let r = 0; r < rounds; r++) for (const [name, config] of cases) samples.get(name)?.push(measure(config));
  const baseline = median(samples.get('1 secret') ?? []);
  const lines = ['| signing per attempt | µs (median) | vs 1 secret |', '| --- | --- | --- |'];
  for (const [name] of cases) {
    const us = median(samples.get(name) ?? []);
    lines.push(`| ${name} | ${formatNumber(us, 2)} | ${formatNumber(us / baseline, 2)}x |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
