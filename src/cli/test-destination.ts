import type { Command } from 'commander';
import type { PayStatus } from '../event';
import { createLogger } from '../log';
import { DeliveryError } from '../operations/errors';
import { parseStatus } from '../operations/filters';
import { sendTest, testSendDeps } from '../operations/test-send';
import { CommandFailed, loadCliConfig, parseFlag, print } from './context';

export function registerTestDestination(program: Command): void {
  program
    .command('test-destination')
    .description('send a clearly marked sample event to one destination now and print what the receiver answered')
    .argument('<name>', 'a configured destination')
    .option('--status <status>', 'the sample payout status', 'failure')
    .action(async (name: string, flags: { status: string }) => {
      const status = parseFlag(() => parseStatus(flags.status)) as PayStatus;
      const config = loadCliConfig();
      try {
        // Nothing is stored: no database is opened.
        const result = await sendTest(testSendDeps(config, createLogger({ level: 'silent' })), name, status);
        print(
          `sent a sample ${status} event to ${name} (${config.destinations[name]?.type ?? ''}) in ${result.ms} ms, delivery id ${result.deliveryId}`,
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
