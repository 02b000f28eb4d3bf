import { expect } from 'chai';
import { interpretQueriedStatus } from '../../../src/payouts/queried-status';
import {
  buildConfirmedEvent,
  buildMissedEvent,
  buildOutOfWindowAnomaly,
  buildUnconfirmedAnomaly,
  checkAnswerTimes,
  decide,
} from '../../../src/payouts/reconciliation';
import { classifyQueryError } from '../../../src/payouts/reconciler';
import { digestContent, identityKey } from '../../../src/skypay/identity';
import {
  StatusQueryRejectedError,
  StatusQueryTimeoutError,
  StatusQueryTransportError,
  StatusQueryUnreadableError,
  type QueriedPayout,
} from '../../../src/skypay/status-query';
import { buildPayoutEvent } from '../../support/fixtures';

const queried = (status: number, times: Partial<QueriedPayout> = {}): QueriedPayout => ({
  controlNumber: 'SK0000000000001',
  status,
  statusDesc: '',
  transactionDate: '2026-11-27 08:00:00',
  payTime: '',
  cancelTime: '',
  withdrawChannel: '',
  referenceNo: '',
  traceNo: '',
  ...times,
});

describe('reconciliation decisions (pure)', () => {
  it('a final status an open or unknown payout never received: create its event with the mapped dealTime', () => {
    const paid = decide('uploaded', interpretQueriedStatus(queried(1, { payTime: '2026-11-27 09:00:00' })));
    expect(paid).to.include({ action: 'create', payType: 2, dealTime: '2026-11-27 09:00:00' });
    const cancelled = decide(undefined, interpretQueriedStatus(queried(3, { cancelTime: '2026-11-27 09:30:00' })));
    expect(cancelled).to.include({ action: 'create', payType: 3, dealTime: '2026-11-27 09:30:00' });
    const failed = decide('amendedSuccess', interpretQueriedStatus(queried(4)));
    expect(failed).to.include({ action: 'create', payType: 4, dealTime: '2026-11-27 08:00:00' });
  });

  it('contradictions raise: a different final status, or still open for a payout held final', () => {
    expect(decide('paid', interpretQueriedStatus(queried(4))).action).to.equal('raise');
    expect(decide('failed', interpretQueriedStatus(queried(2))).action).to.equal('raise');
    expect(decide('cancelled', interpretQueriedStatus(queried(3, { cancelTime: '' }))).action).to.equal('raise');
  });

  it('agreement, still open, record-only statuses and a final status without any time are recorded only', () => {
    expect(decide('paid', interpretQueriedStatus(queried(1)))).to.include({ action: 'record', outcome: 'agrees' });
    expect(decide('uploaded', interpretQueriedStatus(queried(2)))).to.include({ action: 'record', outcome: 'open' });
    expect(decide('uploaded', interpretQueriedStatus(queried(3)))).to.include({ action: 'record', outcome: 'open' });
    for (const s of [0, 10, 11, 99]) {
      expect(decide('uploaded', interpretQueriedStatus(queried(s)))).to.include({
        action: 'record',
        outcome: 'record',
      });
    }
    const noTime = decide('uploaded', interpretQueriedStatus(queried(1, { transactionDate: '' })));
    expect(noTime).to.include({ action: 'record', outcome: 'unkeyed' });
  });

  it("the missed event has a plain callback's identity and content, marked origin reconciliation", () => {
    const now = new Date('2026-11-27T02:00:00Z');
    const missed = buildMissedEvent('ACME', 'SK0000000000001', 2, '2026-11-27 09:00:00', 480, now);
    expect(missed).to.include({ origin: 'reconciliation', status: 'paid', dealTimeUtc: '2026-11-27T01:00:00.000Z' });
    const callback = buildPayoutEvent({
      action: 'payoutQueuePayout',
      partner: 'ACME',
      controlNumber: 'SK0000000000001',
      payType: 2,
      status: 'paid',
      dealTime: '2026-11-27 09:00:00',
      failDescription: null,
      referenceNumber: null,
      extra: {},
    });
    expect(identityKey(missed)).to.deep.equal(identityKey(callback));
    expect(digestContent(missed).equals(digestContent(callback))).to.equal(true);
  });

  it('names each status query failure by outcome', () => {
    expect(classifyQueryError(new StatusQueryTimeoutError(5))).to.equal('timeout');
    expect(classifyQueryError(new StatusQueryRejectedError('-9999', 'down'))).to.equal('rejected');
    expect(classifyQueryError(new StatusQueryTransportError('refused', 'ECONNREFUSED'))).to.equal('transport');
    expect(classifyQueryError(new StatusQueryUnreadableError('garbage'))).to.equal('unreadable');
  });
});

describe('reconciliation decisions on confirmation and on times (pure)', () => {
  const NOW = new Date('2026-11-27T02:00:00Z'); // 10:00 in SkyPay's zone
  const WINDOW = { maxAgeDays: 30, maxFutureMinutes: 10 };

  it('a final status waiting for confirmation: the same one confirms it, another or still open is unconfirmed', () => {
    const pending = { confirmation: 'pending' as const };
    expect(decide('paid', interpretQueriedStatus(queried(1)), pending)).to.include({ action: 'confirm' });
    expect(decide('paid', interpretQueriedStatus(queried(2)), pending)).to.include({
      action: 'raise',
      kind: 'unconfirmed',
    });
    expect(decide('cancelled', interpretQueriedStatus(queried(4)), pending)).to.include({ kind: 'unconfirmed' });
    // Already confirmed, or never waiting: as before.
    expect(decide('paid', interpretQueriedStatus(queried(1)), { confirmation: 'confirmed' })).to.include({
      action: 'record',
      outcome: 'agrees',
    });
    expect(decide('paid', interpretQueriedStatus(queried(2)), { confirmation: 'off' })).to.include({
      kind: 'reconciliation',
    });
    // A record-only status says nothing either way: it stays pending.
    expect(decide('paid', interpretQueriedStatus(queried(10)), pending)).to.include({ action: 'record' });
  });

  it('holds the times of an answer to the window: any time ahead, the dated time too old, an unreal time', () => {
    const check = (q: QueriedPayout) => checkAnswerTimes(q, interpretQueriedStatus(q), NOW, WINDOW, 480);
    expect(check(queried(4, { transactionDate: '2099-12-31 23:59:59' }))).to.equal(
      'transactionDate 2099-12-31 23:59:59 is more than 10 minutes in the future (skypay.maxFutureMinutes)',
    );
    expect(check(queried(2, { transactionDate: '2026-11-27 10:11:00' }))).to.match(/^transactionDate .* future/);
    expect(check(queried(2, { transactionDate: '2026-11-27 10:09:00' }))).to.equal(undefined);
    // The time a paid event would be dated by: held to maxAgeDays. An open payout's old upload time is not.
    expect(check(queried(1, { payTime: '2026-10-01 10:00:00' }))).to.equal(
      'payTime 2026-10-01 10:00:00 is more than 30 days old (skypay.maxAgeDays)',
    );
    expect(check(queried(2, { transactionDate: '2026-10-01 10:00:00' }))).to.equal(undefined);
    expect(check(queried(1, { payTime: '2026-11-27 09:00:00', transactionDate: '2026-10-01 10:00:00' }))).to.equal(
      undefined,
    );
    expect(check(queried(1, { payTime: '2026-02-30 09:00:00' }))).to.equal(
      'payTime 2026-02-30 09:00:00 is not a real time',
    );
    // Without a window only unreal times are refused.
    const q = queried(4, { transactionDate: '2099-12-31 23:59:59' });
    expect(checkAnswerTimes(q, interpretQueriedStatus(q), NOW, {}, 480)).to.equal(undefined);
  });

  it('a violation comes first: nothing is created or confirmed from such an answer', () => {
    const decision = decide('uploaded', interpretQueriedStatus(queried(4)), {
      violation: 'transactionDate x is ahead',
    });
    expect(decision).to.include({ action: 'out-of-window', violation: 'transactionDate x is ahead' });
    expect(
      decide('paid', interpretQueriedStatus(queried(1)), { confirmation: 'pending', violation: 'v' }).action,
    ).to.equal('out-of-window');
  });

  it('builds payout.confirmed, and the unconfirmed and out-of-window anomalies, with reasons that name no payout', () => {
    const q = queried(1, { payTime: '2026-11-27 09:00:00', statusDesc: 'Completed' });
    const meaning = interpretQueriedStatus(q);
    const paid = buildPayoutEvent({ id: 'evt_paid', payType: 2, status: 'paid', dealTime: '2026-11-27 09:00:00' });
    const status = { partner: 'ACME', controlNumber: 'SK0000000000001', state: 'paid' as const, event: paid };
    const confirmed = buildConfirmedEvent(status, q, meaning, NOW);
    expect(confirmed).to.include({ type: 'payout.confirmed', source: 'skyrelay' });
    expect(confirmed.data).to.include({
      confirmation: 'confirmed',
      eventId: 'evt_paid',
      dealTime: '2026-11-27 09:00:00',
      queriedStatus: 1,
      controlNumber: 'SK0000000000001',
    });
    const open = queried(2, { statusDesc: 'Uploaded' });
    const unconfirmed = buildUnconfirmedAnomaly(status, open, interpretQueriedStatus(open), NOW);
    expect(unconfirmed.data).to.include({
      kind: 'unconfirmed',
      confirmation: 'contradicted',
      skyrelaySays: 'paid',
      skypaySays: 'still open: Uploaded',
    });
    const late = queried(4, { transactionDate: '2099-12-31 23:59:59' });
    const window = buildOutOfWindowAnomaly(
      'ACME',
      'SK0000000000001',
      'uploaded',
      'v',
      late,
      interpretQueriedStatus(late),
      NOW,
    );
    expect(window.data).to.include({ kind: 'out-of-window', violation: 'v', state: 'uploaded' });
    for (const e of [confirmed, unconfirmed, window]) {
      expect(String(e.data['reason'])).not.to.match(/SK0000000000001|ACME/);
    }
  });
});
