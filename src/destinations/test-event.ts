import { payTypeOf, type PayoutEvent, type PayStatus } from '../event';
import { createId } from '../ids';
import { createDestination } from './index';
import type { DestinationOptions } from './options';
import type { DestinationConfig } from './schema';
import type { DeliveryResult } from './types';

/**
 * A clearly marked sample event sent to one destination now, outside the outbox: what `skyrelay test-destination`
 * and the dashboard's Send test button do. Nothing is stored; a failure is the destination's DeliveryError.
 */

/** Marks that no receiver can mistake for a real payout. */
export const TEST_CONTROL_NUMBER = 'SKYRELAYTEST00';
export const TEST_PARTNER = 'skyrelay test-destination';

export interface TestSend extends DeliveryResult {
  deliveryId: string;
  ms: number;
}

export async function sendTestEvent(
  name: string,
  config: DestinationConfig,
  options: DestinationOptions,
  status: PayStatus = 'failure',
): Promise<TestSend> {
  const destination = createDestination(name, config, options);
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
    return { ...result, deliveryId, ms: Math.round(performance.now() - started) };
  } finally {
    await destination.close();
  }
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
