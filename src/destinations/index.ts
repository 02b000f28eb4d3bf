import type { Config } from '../config/schema';
import type { Logger } from '../log';
import { secretsOfConfig } from './secrets';
import { createEmailDestination } from './email';
import { applyMasking, hasMasking, type Masking } from './masking';
import type { DestinationOptions } from './options';
import type { DestinationConfig, DestinationsConfig } from './schema';
import { createSlackDestination } from './slack';
import type { Destination } from './types';
import { createWebhookDestination } from './webhook';

export type { DestinationLogger, DestinationOptions } from './options';
export type { DestinationConfig, DestinationsConfig } from './schema';

export function createDestination(name: string, config: DestinationConfig, options: DestinationOptions): Destination {
  return withMasking(createSender(name, config, options), { omit: config.omit ?? [], mask: config.mask ?? [] });
}

function createSender(name: string, config: DestinationConfig, options: DestinationOptions): Destination {
  switch (config.type) {
    case 'slack':
      return createSlackDestination(name, config, options);
    case 'email':
      return createEmailDestination(name, config, options);
    case 'webhook':
      return createWebhookDestination(name, config, options);
  }
}

/**
 * The destination's `omit` and `mask`, applied to the event before any formatting: Slack, email and webhook bodies
 * then hide the same fields the same way, and the stored event (which the worker reads) stays whole.
 */
function withMasking(destination: Destination, masking: Masking): Destination {
  if (!hasMasking(masking)) return destination;
  return {
    name: destination.name,
    type: destination.type,
    send: (request) => destination.send({ ...request, event: applyMasking(request.event, masking) }),
    close: () => destination.close(),
  };
}

/** One Destination per configured name; the worker looks them up by the name rules route to. */
export function createDestinations(configs: DestinationsConfig, options: DestinationOptions): Map<string, Destination> {
  const destinations = new Map<string, Destination>();
  for (const [name, config] of Object.entries(configs))
    destinations.set(name, createDestination(name, config, options));
  return destinations;
}

/** The destinations as a component: created with the daemon (tests read them), their connections closed at stop. */
export function destinationsComponent(destinations: ReadonlyMap<string, Destination>) {
  return {
    name: 'destinations',
    start: () => undefined,
    stop: async () => {
      await Promise.allSettled([...destinations.values()].map((d) => d.close()));
    },
  };
}

/** The configured destinations, as the daemon sends to them: its timeouts, time zone, dashboard links and secrets. */
export function destinationsOf(config: Config, logger: Logger): Map<string, Destination> {
  return createDestinations(config.destinations, {
    timeoutMs: config.delivery.timeoutMs,
    logger,
    timezone: config.skypay.timezone,
    // Links to the dashboard only where there is one.
    publicUrl: config.admin.token ? config.ui.publicUrl : undefined,
    secrets: secretsOfConfig(config),
  });
}
