import { buildLedger, dayWindow } from '../../src/ledger/balance';
import type { Ledger } from '../../src/ledger/types';
import type { FinanceEvent, PayoutEvent, SystemEvent } from '../../src/event';
import type { DeliveryRequest } from '../../src/destinations/types';

/**
 * The events and delivery requests every test builds, in one place (callback bodies, which SkyPay sends rather
 * than skyrelay stores, are built next to the code that sends them: buildCallback in skypay.ts).
 *
 * Shaped like real ones: the payout failure sets every field, including extras SkyPay did not document and text
 * that needs escaping, so a test that checks "every field shows" really checks every field. A test whose
 * assertions depend on particular values passes them as overrides, so a reader sees them in the test.
 */

export function buildPayoutEvent(overrides: Partial<PayoutEvent> = {}): PayoutEvent {
  return {
    id: 'evt_01J8Z6Q3K2M4N5P6R7S8T9V0W1',
    source: 'skypay',
    type: 'payout',
    action: 'notify',
    partner: 'ACME Remit <PH>',
    controlNumber: 'SK99123456789',
    payType: 4,
    status: 'failure',
    dealTime: '2018-08-07 11:58:33',
    dealTimeUtc: '2018-08-07T03:58:33.000Z',
    failDescription: 'Beneficiary account closed & "frozen"',
    referenceNumber: 'REF-2018-0807-001',
    extra: { branchCode: 'MNL-042', retryCount: 2, note: 'señor' },
    receivedAt: '2018-08-07T03:58:35.120Z',
    duplicates: 0,
    ...overrides,
  };
}

export function buildPaidEvent(overrides: Partial<PayoutEvent> = {}): PayoutEvent {
  return buildPayoutEvent({
    payType: 2,
    status: 'paid',
    failDescription: null,
    referenceNumber: null,
    extra: {},
    ...overrides,
  });
}

/** SkyPay's 8.1 sample, as skyrelay stores it: a top-up (statementType 1) of the payout account. */
export function buildFinanceEvent(overrides: Partial<FinanceEvent> = {}): FinanceEvent {
  return {
    id: 'evt_01J8Z6Q3K2M4N5P6R7S8T9F1N1',
    source: 'skypay',
    type: 'finance',
    action: 'financeNotification',
    partner: 'AppName@skypay',
    referenceNumber: 'D-20231204-001',
    accountNo: '091234567899',
    statementType: 1,
    signType: 'recharge',
    amount: 12000000,
    currency: 'PHP',
    transactionDate: '2023-06-18 17:52:10',
    transactionDateUtc: '2023-06-18T09:52:10.000Z',
    companyPrefix: 'SKY98',
    companyName: 'SKYPAY',
    sourceAccountNo: '',
    beneficiaryAccountNo: '001234567899',
    extra: {},
    receivedAt: '2023-06-18T09:52:11.000Z',
    duplicates: 0,
    ...overrides,
  };
}

export function buildRejectionEvent(overrides: Partial<SystemEvent> = {}): SystemEvent {
  return {
    id: 'sys_01J8Z6Q3K2M4N5P6R7S8T9V0W2',
    source: 'skyrelay',
    type: 'rejection',
    receivedAt: '2018-08-07T04:00:00.000Z',
    data: {
      reason: 'authentication key mismatch',
      partner: 'ACME Remit <PH>',
      remoteAddress: '203.0.113.7',
      status: 401,
    },
    ...overrides,
  };
}

export function buildDeadDeliveryEvent(overrides: Partial<SystemEvent> = {}): SystemEvent {
  return {
    id: 'sys_01J8Z6Q3K2M4N5P6R7S8T9V0W3',
    source: 'skyrelay',
    type: 'delivery.dead',
    receivedAt: '2018-08-07T05:00:00.000Z',
    data: {
      destination: 'ops-webhook',
      deliveryId: 'dlv_123',
      attempts: 8,
      lastError: 'HTTP 503',
      controlNumber: 'SK99123456789',
    },
    ...overrides,
  };
}

/** A first attempt with a signal that never aborts unless the test passes its own. */
export function buildDeliveryRequest(
  event: DeliveryRequest['event'],
  overrides: Partial<DeliveryRequest> = {},
): DeliveryRequest {
  return {
    deliveryId: 'dlv_01J8Z6Q3K2M4N5P6R7S8T9V0X1',
    attempt: 1,
    event,
    rules: ['payout-failures'],
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** A day's ledger as src/ledger/balance.ts builds it: one delivered route, nothing unexplained, unless overridden. */
export function buildLedgerFixture(overrides: Partial<Ledger> = {}): Ledger {
  const day = dayWindow('2026-12-01', 480);
  if (!day) throw new Error('not a day');
  const ledger = buildLedger(
    {
      callbacks: { accepted: 1, newEvents: 1, duplicates: 0, conflictingCopies: 0, rejected: {}, suppressed: 0 },
      events: { callback: 1, reconciliation: 0, skyrelay: 0 },
      routes: {
        hook: {
          routed: 1,
          delivered: 1,
          deliveredInGroup: 0,
          silenced: 0,
          dead: 0,
          pending: 0,
          inflight: 0,
          replayed: 0,
          oldestPendingMs: null,
        },
      },
      payouts: {
        opened: 1,
        finalised: { paid: 0, cancelled: 0, failed: 0 },
        stillOpen: { under1h: 0, under24h: 1, older: 0 },
        stuck: 0,
        anomalies: {},
        confirmed: 0,
        contradicted: 0,
      },
      unexplained: [],
    },
    { day, timezone: '+08:00', partner: undefined, now: day.endMs },
  );
  return { ...ledger, ...overrides };
}
