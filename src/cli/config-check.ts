import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { listConfigWarnings } from '../config/load';
import type { Config } from '../config/schema';
import { readEd25519PrivateKey } from '../destinations/keys';
import type { DestinationConfig, WebhookDestinationConfig } from '../destinations/schema';
import { listHmacSecrets, parseExpiresAt } from '../destinations/signing';
import { describeStuckWaits, isStuckCheckOn, resolveStuckWaits } from '../payouts/stuck-after';
import { EVENT_KINDS, listReceivedTypes } from '../routing/event-types';
import { namesSystemEvents } from '../routing/match';
import type { RuleConfig } from '../routing/schema';
import { loadCliConfig, print } from './context';

/**
 * `skyrelay config check`: validates the configuration exactly as the daemon
 * does and prints what it will do. Every secret is masked: keys are shown as
 * a count and a fingerprint, URLs as their origin only.
 */
export function registerConfigCheck(program: Command): void {
  program
    .command('config')
    .description('inspect the configuration')
    .command('check')
    .description('validate the configuration and show partners (keys masked), destinations and rules')
    .action(() => {
      const config = loadCliConfig();
      for (const line of describeConfig(config)) print(line);
    });
}

export function describeConfig(config: Config, nowMs: number = Date.now()): string[] {
  const lines = ['configuration is valid', ''];
  const warnings = listConfigWarnings(config, nowMs);
  if (warnings.length > 0) lines.push('warnings:', ...warnings.map((w) => `  - ${w}`), '');
  lines.push(`server:      ${config.server.host}:${config.server.port}, callbacks at ${config.skypay.path}`);
  lines.push(
    `store:       ${config.store.path} (events kept ${config.store.retentionDays} d, rejections ${config.store.rejectionRetentionDays} d)`,
  );
  lines.push(`admin API:   ${config.admin.token ? 'enabled (token set)' : 'disabled (no admin.token)'}`);
  lines.push(`metrics:     ${config.metrics.enabled ? 'GET /metrics' : 'disabled'}`);
  const waits = resolveStuckWaits(config.payouts);
  lines.push(`stuck after: ${isStuckCheckOn(waits) ? describeStuckWaits(waits) : 'never (the check is off)'}`);
  lines.push('', 'partners:');
  for (const p of config.skypay.partners) {
    const enc = p.encryptKeys.length ? `must encrypt, ${describeKeys(p.encryptKeys)}` : 'plain JSON allowed';
    lines.push(`  ${p.userName}  authentication ${describeKeys(p.authentication)}; ${enc}`);
  }
  lines.push('', 'destinations:');
  const names = Object.keys(config.destinations);
  if (names.length === 0) lines.push('  (none)');
  for (const [name, d] of Object.entries(config.destinations))
    lines.push(`  ${name}  ${d.type}  ${describeTarget(d, nowMs)}`);
  lines.push('', 'rules (receives: the event types, as webhook bodies name them, by source, type, payType, status');
  lines.push('and signType; other fields are judged per event):');
  if (config.rules.length === 0) lines.push('  (none: events are stored but sent nowhere)');
  for (const rule of config.rules) {
    lines.push(`  ${rule.name} → ${rule.to.join(', ')}`);
    lines.push(`    match:    ${rule.match ? JSON.stringify(rule.match) : '(every payout and finance notification)'}`);
    lines.push(`    receives: ${describeReceivedTypes(rule)}`);
  }
  return lines;
}

/**
 * A count and one fingerprint (the first 8 hex of SHA-256 of the keys, sorted, one per line), so two hosts
 * can compare their keys without either showing anything about them: not even a length, which narrows a guess.
 */
export function describeKeys(keys: readonly string[]): string {
  const fingerprint = createHash('sha256')
    .update([...keys].sort().join('\n'), 'utf8')
    .digest('hex')
    .slice(0, 8);
  return `${keys.length} key${keys.length === 1 ? '' : 's'} (fingerprint ${fingerprint})`;
}

/** Where a destination sends, without the parts that are credentials (Slack paths, SMTP passwords). */
function describeTarget(d: DestinationConfig, nowMs: number): string {
  if (d.type === 'slack') return `${originOf(d.url)}/… (hook path hidden)`;
  if (d.type === 'webhook') return `${originOf(d.url)}/… (${describeSigning(d, nowMs)})`;
  const via =
    typeof d.transport === 'string'
      ? originOf(d.transport)
      : typeof d.transport['host'] === 'string'
        ? `${d.transport['host']}:${String(d.transport['port'] ?? '')}`
        : 'a transport object';
  return `to ${d.to.join(', ')} via ${via}`;
}

/**
 * How a webhook is signed, with nothing about a secret but how many there are and when they expire; the
 * Ed25519 public key is shown, being what receivers are given anyway.
 */
function describeSigning(d: WebhookDestinationConfig, nowMs: number): string {
  const parts: string[] = [];
  const secrets = listHmacSecrets(d);
  if (secrets.length > 0) {
    const expiries = secrets.flatMap(({ expiresAt }) => {
      if (expiresAt === undefined) return [];
      return [`${(parseExpiresAt(expiresAt) ?? 0) <= nowMs ? 'one expired' : 'one until'} ${expiresAt}`];
    });
    const count = `${secrets.length} secret${secrets.length === 1 ? '' : 's'}`;
    parts.push(`signed v1 with ${count}${expiries.length > 0 ? ` (${expiries.join(', ')})` : ''}`);
  }
  if (d.signing === 'ed25519' && d.privateKey !== undefined) {
    parts.push(`signed v1a with ed25519, public key ${readEd25519PrivateKey(d.privateKey).publicKey}`);
  }
  return `${parts.join('; ')}; secrets hidden`;
}

function originOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * The event types a rule can receive, skyrelay's own included, with a family it receives whole said once
 * (`skypay.payout.*`).
 */
export function describeReceivedTypes(rule: RuleConfig): string {
  const names = listReceivedTypes(rule.match, namesSystemEvents(rule));
  if (names.length === 0) return 'none';
  const families = ['skypay.payout.', 'skypay.finance.', 'skyrelay.'];
  const shown: string[] = [];
  for (const name of names) {
    const family = families.find((f) => name.startsWith(f)) ?? name;
    const whole = EVENT_KINDS.filter((k) => k.name.startsWith(family)).every((k) => names.includes(k.name));
    const label = whole ? `${family}*` : name;
    if (!shown.includes(label)) shown.push(label);
  }
  return shown.join(', ');
}
