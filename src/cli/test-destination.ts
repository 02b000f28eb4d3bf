import type { Command } from 'commander';
import { parseStatus } from '../admin/filters';
import { createDestination } from '../destinations';
import { DeliveryError } from '../destinations/types';
import { payTypeOf, type PayoutEvent, type PayStatus } from '../event';
import { createId } from '../ids';
import { CommandFailed, loadCliConfig, parseFlag, print } from './context';

/** Marks that no receiver can mistake for a real payout. */
export const TEST_CONTROL_NUMBER = 'SKYRELAYTEST00';
export const TEST_PARTNER = 'skyrelay test-destination';

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
      const destination = createDestination(name, destConfig, {
        timeoutMs: config.delivery.timeoutMs,
        timezone: config.skypay.timezone,
      });
      const deliveryId = createId('dlv');
      const started = performance.now();
      try {
        const result = await destination.send({
          deliveryId,
          attempt: 1,
          event: buildSampleEvent(status),
          rules: ['skyrelay test-destination'],
          signal: new AbortController().signal,
        });
        const ms = Math.round(performance.now() - started);
        print(`sent a sample ${status} event to ${name} (${destConfig.type}) in ${ms} ms, delivery id ${deliveryId}`);
        print(
          `receiver answered: ${result.status === undefined ? 'accepted' : `HTTP ${result.status}`}${result.response ? `: ${result.response}` : ''}`,
        );
      } catch (err) {
        if (!(err instanceof DeliveryError)) throw err;
        // Destinations scrub their own secrets out of these messages, and already quote the status and answer in them.
        const kind = err.retryable ? 'temporary: the daemon would retry' : 'permanent: the daemon would give up';
        throw new CommandFailed(`sending to ${name} failed: ${err.message} (${kind})`);
      } finally {
        await destination.close();
      }
    });
}

export function buildSampleEvent(status: PayStatus, now = new Date()): PayoutEvent {
  return {
    id: createId('evt'),
    source: 'skypay',
    type: 'payout',
    action: 'payoutQueuePayout',
    partner: TEST_PARTNER,
    controlNumber: TEST_CONTROL_NUMBER,
    payType: payTypeOf(status) ?? 4,
    status,
    dealTime: '2000-01-01 00:00:00',
    dealTimeUtc: '1999-12-31T16:00:00.000Z',
    failDescription: 'TEST from skyrelay test-destination: not a real payout, no action needed',
    referenceNumber: 'TEST',
    extra: { test: true, sentBy: 'skyrelay test-destination' },
    receivedAt: now.toISOString(),
    duplicates: 0,
  };
}
