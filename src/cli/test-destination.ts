import type { Command } from 'commander';
import { parseStatus } from '../admin/filters';
import { secretsOfConfig } from '../destinations/secrets';
import { sendTestEvent } from '../destinations/test-event';
import { DeliveryError } from '../destinations/types';
import type { PayStatus } from '../event';
import { CommandFailed, loadCliConfig, parseFlag, print } from './context';

export { TEST_CONTROL_NUMBER, TEST_PARTNER, buildSampleEvent } from '../destinations/test-event';

export function registerTestDestination(program: Command): void {
  program
    .command('test-destination')
    .description('send a clearly marked sample event to one destination now and print what the receiver answered')
    .argument('<name>', 'a configured destination')
    .option('--status <status>', 'the sample payout status', 'failure')
    .action(async (name: string, flags: { status: string }) => {
      const status = parseFlag(() => parseStatus(flags.status)) as PayStatus;
      const config = loadCliConfig();
      const destConfig = config.destinations[name];
      if (!destConfig) {
        const known = Object.keys(config.destinations);
        throw new CommandFailed(`no destination "${name}" (configured: ${known.length ? known.join(', ') : 'none'})`);
      }
      try {
        const result = await sendTestEvent(
          name,
          destConfig,
          { timeoutMs: config.delivery.timeoutMs, timezone: config.skypay.timezone, secrets: secretsOfConfig(config) },
          status,
        );
        print(
          `sent a sample ${status} event to ${name} (${destConfig.type}) in ${result.ms} ms, delivery id ${result.deliveryId}`,
        );
        print(
          `receiver answered: ${result.status === undefined ? 'accepted' : `HTTP ${result.status}`}${result.response ? `: ${result.response}` : ''}`,
        );
      } catch (err) {
        if (!(err instanceof DeliveryError)) throw err;
        // Destinations scrub their own secrets out of these messages, and already quote the status and answer in them.
        const kind = err.retryable ? 'temporary: the daemon would retry' : 'permanent: the daemon would give up';
        throw new CommandFailed(`sending to ${name} failed: ${err.message} (${kind})`);
      }
    });
}
