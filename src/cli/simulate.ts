import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { parseStatus } from '../operations/filters';
import type { Config } from '../config/schema';
import { payTypeOf, type PayStatus } from '../event';
import { decryptBody, deriveAesKey, encryptBody } from '../skypay/crypto';
import { formatResponseTime, parseOffsetMinutes } from '../skypay/time';
import { CommandFailed, UsageError, loadCliConfig, parseFlag, print } from './context';

interface SimulateFlags {
  payType: string;
  controlNumber?: string;
  partner?: string;
  encrypt?: boolean;
  url?: string;
  failDescription?: string;
}

/**
 * `skyrelay simulate`: posts a callback shaped like SkyPay's (its own key,
 * its encryption when asked) to a running daemon, like SkyPay's test tool,
 * so rules can be tried end to end. The key never appears in the output.
 */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('post a realistic SkyPay callback to a running daemon and print the reply')
    .option('--pay-type <status>', 'upload, paid, cancel, failure, amendedSuccess, amendedFailure or 1-6', 'failure')
    .option('--control-number <number>', 'default: a fresh SIM… number')
    .option('--partner <userName>', 'default: the first configured partner')
    .option('--encrypt', "encrypt with the partner's first encrypt key, as SkyPay does")
    .option('--url <url>', 'default: http://127.0.0.1:<server.port><skypay.path>')
    .option('--fail-description <text>', 'default: a sample reason for failure statuses')
    .action(async (flags: SimulateFlags) => {
      const status = parseFlag(() => parseStatus(flags.payType)) as PayStatus;
      const config = loadCliConfig();
      const partner =
        flags.partner === undefined
          ? config.skypay.partners[0]
          : config.skypay.partners.find((p) => p.userName === flags.partner);
      if (!partner) throw new UsageError(`no partner "${flags.partner ?? ''}" in skypay.partners`);
      const encryptKey = flags.encrypt ? partner.encryptKeys[0] : undefined;
      if (flags.encrypt && encryptKey === undefined) {
        // Not a usage error: the command line is right, the configuration lacks the key (the default one has none).
        throw new CommandFailed(
          `partner ${partner.userName} has no encryptKeys to encrypt with: add the key SkyPay encrypts with ` +
            'to its "encryptKeys" in skypay.partners (SKYRELAY_PARTNERS, or config/local.json on a workstation), ' +
            'so the daemon and this command both use it; or drop --encrypt to send plain JSON',
        );
      }
      const url = flags.url ?? defaultUrl(config);
      const body = buildCallback(config, partner.userName, partner.authentication[0] ?? '', status, flags);
      const aesKey = encryptKey === undefined ? undefined : deriveAesKey(encryptKey);
      print(`POST ${url} as ${partner.userName}${aesKey ? ' (encrypted)' : ''}`);
      print(
        `  controlNumber ${String(body['controlNumber'])}, payType ${String(body['payType'])} (${status}), dealTime ${String(body['dealTime'])}`,
      );
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': aesKey ? 'text/plain' : 'application/json' },
          body: aesKey ? encryptBody(JSON.stringify(body), aesKey) : JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        throw new CommandFailed(`could not reach ${url}: ${cause}`);
      }
      const text = await res.text();
      const reply = aesKey && !text.trimStart().startsWith('{') ? (decryptBody(text, aesKey) ?? text) : text;
      print(`HTTP ${res.status}: ${reply}`);
      const code = parseCode(reply);
      if (code !== '1000')
        throw new CommandFailed(`the daemon did not acknowledge (responseCode ${code ?? 'missing'})`);
    });
}

function defaultUrl(config: Config): string {
  const host = ['0.0.0.0', '::', ''].includes(config.server.host) ? '127.0.0.1' : config.server.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.server.port}${config.skypay.path}`;
}

function buildCallback(
  config: Config,
  userName: string,
  key: string,
  status: PayStatus,
  flags: SimulateFlags,
): Record<string, unknown> {
  const offset = parseOffsetMinutes(config.skypay.timezone);
  const failed = status === 'failure' || status === 'amendedFailure';
  return {
    userName,
    action: 'payoutQueuePayout',
    authentication: key,
    controlNumber:
      flags.controlNumber ?? `SIM${String(Date.now()).slice(-9)}${String(randomInt(1000)).padStart(3, '0')}`,
    // SkyPay sends payType as a string in every example.
    payType: String(payTypeOf(status)),
    dealTime: formatResponseTime(new Date(), offset).slice(0, 19),
    referenceNumber: `SIMREF${randomInt(1e9)}`,
    ...(failed || flags.failDescription
      ? { failDescription: flags.failDescription ?? 'Simulated failure: beneficiary account closed' }
      : {}),
  };
}

function parseCode(reply: string): string | undefined {
  try {
    const parsed = JSON.parse(reply) as { responseCode?: unknown };
    return typeof parsed.responseCode === 'string' ? parsed.responseCode : undefined;
  } catch {
    return undefined;
  }
}
