import type { Config } from '../config/schema';
import type { DestinationOptions } from '../destinations/options';
import { secretsOfConfig } from '../destinations/secrets';
import type { DestinationsConfig } from '../destinations/schema';
import { sendTestEvent, type TestSend } from '../destinations/test-event';
import type { PayStatus } from '../event';
import type { Logger } from '../log';
import { NotFoundError } from './errors';

export type { TestSend } from '../destinations/test-event';

export interface TestSendDeps {
  destinations: DestinationsConfig;
  /** How a destination is built for it: as the daemon builds them (timeouts, time zone, secrets to scrub). */
  destinationOptions: DestinationOptions;
  logger: Logger;
}

/** As configured: with the timeouts, time zone and secrets of `config`, unless the daemon gives its own options. */
export function testSendDeps(config: Config, logger: Logger, destinationOptions?: DestinationOptions): TestSendDeps {
  return {
    destinations: config.destinations,
    destinationOptions: destinationOptions ?? {
      timeoutMs: config.delivery.timeoutMs,
      timezone: config.skypay.timezone,
      // Links to the dashboard only where there is one, as the daemon's destinations have.
      publicUrl: config.admin.token ? config.ui.publicUrl : undefined,
      secrets: secretsOfConfig(config),
    },
    logger,
  };
}

/**
 * Sends a clearly marked sample event to one configured destination now, outside the queue (nothing is stored):
 * NotFoundError for a name not configured; a failed send is the destination's DeliveryError, secrets scrubbed.
 */
export async function sendTest(deps: TestSendDeps, name: string, status?: PayStatus): Promise<TestSend> {
  const config = Object.hasOwn(deps.destinations, name) ? deps.destinations[name] : undefined;
  if (!config) {
    const known = Object.keys(deps.destinations);
    throw new NotFoundError(`no destination "${name}" (configured: ${known.length ? known.join(', ') : 'none'})`);
  }
  deps.logger.info({ destination: name }, 'test send');
  return sendTestEvent(name, config, deps.destinationOptions, status);
}
