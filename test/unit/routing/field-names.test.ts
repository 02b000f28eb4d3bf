import { expect } from 'chai';
import {
  buildConflictEvent,
  buildDatabaseLostEvent,
  buildDeadDeliveryEvent,
  buildFoldedSummaryEvent,
  buildRejectionEvent,
} from '../../../src/alerts/build';
import { buildBreakerEvent } from '../../../src/alerts/breaker';
import { buildGroupMessage } from '../../../src/alerts/grouping/message';
import type { AttemptReport } from '../../../src/delivery/types';
import type { SystemEvent } from '../../../src/event';
import {
  buildAnomalyEvent,
  buildSameTimeAnomaly,
  buildStuckEvent,
  buildUnstuckEvent,
} from '../../../src/payouts/events';
import {
  buildConfirmedEvent,
  buildOutOfWindowAnomaly,
  buildReconciliationAnomaly,
  buildUnconfirmedAnomaly,
} from '../../../src/payouts/reconciliation';
import type { QueriedMeaning } from '../../../src/payouts/queried-status';
import type { QueriedPayout } from '../../../src/skypay/status-query';
import { findFieldNameProblem } from '../../../src/routing/fields';
import type { PayoutRecord } from '../../../src/payouts/types';
import { buildFinanceEvent, buildLedgerFixture, buildPayoutEvent } from '../../support/fixtures';
import { buildLedgerDailyEvent } from '../../../src/ledger/summary';

const NOW = new Date('2026-11-27T10:00:00Z');
const LEDGER = buildLedgerFixture();

/** One of every kind of event skyrelay raises about itself, built by the code that raises it. */
function everySystemEvent(): SystemEvent[] {
  const payout = buildPayoutEvent();
  const record: PayoutRecord = {
    id: 'pay_1',
    partner: payout.partner,
    controlNumber: payout.controlNumber,
    state: 'uploaded',
    firstSeenMs: NOW.getTime(),
    lastSeenMs: NOW.getTime(),
    lastDealTime: payout.dealTime,
    stateSinceMs: NOW.getTime(),
    stuckState: 'uploaded',
    anomalies: 0,
    confirmation: 'off',
  };
  const rejection = {
    id: 'rej_1',
    receivedAt: NOW,
    remoteAddress: '127.0.0.1',
    method: 'POST',
    path: '/skypay',
    contentType: 'application/json',
    status: 401,
    reason: 'authentication',
    description: 'wrong key',
    partner: 'Acme@skypay',
    body: undefined,
  };
  const report = {
    delivery: { id: 'dlv_1', destination: 'ops', eventId: payout.id, event: payout, attempt: 3, rules: ['r'] },
    attempt: { status: 500, error: 'HTTP 500' },
    next: { state: 'dead' },
  } as unknown as AttemptReport;
  const folded = {
    reason: 'authentication',
    folded: 3,
    windowMs: 60_000,
    lastStatus: 401,
    lastPartner: null,
    lastRemoteAddress: null,
    lastDescription: null,
  };
  const conflict = { copyId: 'cpy_1', repeat: false, differs: ['failDescription'] };
  const transition = { from: 'paid', to: 'paid', kind: 'conflict' } as const;
  const queried: QueriedPayout = {
    controlNumber: payout.controlNumber,
    status: 4,
    statusDesc: 'Failed',
    transactionDate: payout.dealTime,
    payTime: '',
    cancelTime: '',
    withdrawChannel: 'Bank',
    referenceNo: '',
    traceNo: '',
  };
  const open: QueriedMeaning = { kind: 'open', state: 'uploaded', reason: 'pending' };
  const confirmed = {
    partner: payout.partner,
    controlNumber: payout.controlNumber,
    state: 'paid',
    event: payout,
  } as const;
  const group = buildGroupMessage(
    'ops',
    JSON.stringify({ payType: 4 }),
    { listed: [payout], total: 1, counts: { failure: 1 }, rules: ['r'], moreNames: [] },
    NOW,
  ).event;
  return [
    buildRejectionEvent(rejection, []),
    buildFoldedSummaryEvent(folded, NOW),
    buildDeadDeliveryEvent(report, NOW),
    buildConflictEvent(payout, payout.id, conflict, NOW),
    buildConflictEvent(buildFinanceEvent(), 'evt_f', conflict, NOW),
    buildDatabaseLostEvent('removed', '/tmp/x.db', NOW),
    buildAnomalyEvent(payout, transition, [], NOW),
    buildStuckEvent(record, NOW),
    buildUnstuckEvent(payout, record, { ...record, state: 'paid' }, NOW),
    buildReconciliationAnomaly(payout.partner, payout.controlNumber, 'paid', queried, open, NOW),
    buildSameTimeAnomaly(payout, { from: 'uploaded', to: 'paid', kind: 'forward' }, undefined, record, [], NOW),
    buildConfirmedEvent(confirmed, queried, open, NOW),
    buildUnconfirmedAnomaly(confirmed, queried, open, NOW),
    buildOutOfWindowAnomaly(payout.partner, payout.controlNumber, 'paid', 'payTime in 2099', queried, open, NOW),
    group,
    buildLedgerDailyEvent(LEDGER, NOW),
    ...(['unhealthy', 'recovered'] as const).flatMap((alert) => {
      const change = {
        destination: 'ledger',
        from: 'closed' as const,
        to: 'open' as const,
        reason: 'failures' as const,
        sinceMs: 0,
        atMs: 1_000,
        lastErrors: ['HTTP 503'],
        backlog: 3,
        alert,
        by: 'ops',
      };
      const event = buildBreakerEvent(change, NOW);
      return event ? [event] : [];
    }),
  ];
}

describe('routing/fields: the names a rule or silence may give', () => {
  it('knows every field of every event skyrelay raises about itself (a new one must be added to SYSTEM_FIELDS)', () => {
    const unknown = everySystemEvent().flatMap((e) =>
      Object.keys(e.data)
        .filter((field) => findFieldNameProblem(field) !== undefined)
        .map((field) => `${e.type}.${field}`),
    );
    expect(unknown).to.deep.equal([]);
  });

  it('knows the payout, finance and lifecycle fields and extra.<name>, and suggests the name a typo meant', () => {
    for (const field of ['payType', 'failDescription', 'statementType', 'transition.kind', 'payout.state']) {
      expect(findFieldNameProblem(field), field).to.equal(undefined);
    }
    expect(findFieldNameProblem('extra.channel')).to.equal(undefined);
    expect(findFieldNameProblem('extra.')).to.match(/^extra\.: unknown field;/);
    expect(findFieldNameProblem('payTyp')).to.match(/^payTyp: unknown field \(did you mean "payType"\?\)/);
    expect(findFieldNameProblem('faildescription')).to.match(/did you mean "failDescription"/);
    expect(findFieldNameProblem('channel')).to.match(/^channel: unknown field; .*or extra\.<name>/);
  });
});
