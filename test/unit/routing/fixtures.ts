import type { PayoutEvent, SystemEvent } from '../../../src/event';

export function makePayout(overrides: Partial<PayoutEvent> = {}): PayoutEvent {
  return {
    id: 'evt-1',
    source: 'skypay',
    type: 'payout',
    action: 'payout.notify',
    partner: 'ACME-PH',
    controlNumber: 'CN0012345',
    payType: 2,
    status: 'paid',
    dealTime: '2024-05-01 10:20:30',
    dealTimeUtc: '2024-05-01T02:20:30.000Z',
    failDescription: null,
    referenceNumber: 'REF-77',
    extra: { amount: '100', currency: 'PHP', express: true, 'extra.dotted': 'literal' },
    receivedAt: '2024-05-01T02:20:31.000Z',
    duplicates: 0,
    ...overrides,
  };
}

export function makeFailure(overrides: Partial<PayoutEvent> = {}): PayoutEvent {
  return makePayout({ payType: 4, status: 'failure', failDescription: 'Account closed', ...overrides });
}

export function makeSystem(overrides: Partial<SystemEvent> = {}): SystemEvent {
  return {
    id: 'sys-1',
    source: 'skyrelay',
    type: 'delivery.dead',
    receivedAt: '2024-05-01T02:20:31.000Z',
    data: { destination: 'ops-slack', attempts: 5, permanent: false, reason: null },
    ...overrides,
  };
}
