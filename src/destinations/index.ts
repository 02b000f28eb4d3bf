import { createEmailDestination } from './email';
import type { DestinationOptions } from './options';
import type { DestinationConfig, DestinationsConfig } from './schema';
import { createSlackDestination } from './slack';
import type { Destination } from './types';
import { createWebhookDestination } from './webhook';

export type { DestinationLogger, DestinationOptions } from './options';
export type { DestinationConfig, DestinationsConfig } from './schema';

export function createDestination(name: string, config: DestinationConfig, options: DestinationOptions): Destination {
  switch (config.type) {
    case 'slack':
      return createSlackDestination(name, config, options);
    case 'email':
      return createEmailDestination(name, config, options);
    case 'webhook':
      return createWebhookDestination(name, config, options);
  }
}

/** One Destination per configured name; the worker looks them up by the name rules route to. */
export function createDestinations(configs: DestinationsConfig, options: DestinationOptions): Map<string, Destination> {
  const destinations = new Map<string, Destination>();
  for (const [name, config] of Object.entries(configs))
    destinations.set(name, createDestination(name, config, options));
  return destinations;
}
