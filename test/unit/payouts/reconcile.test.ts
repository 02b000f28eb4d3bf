import { expect } from 'chai';
import { interpretQueriedStatus } from '../../../src/payouts/queried-status';
import { buildMissedEvent, decide } from '../../../src/payouts/reconcile';
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
