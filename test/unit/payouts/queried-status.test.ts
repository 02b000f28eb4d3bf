import { expect } from 'chai';
import { interpretQueriedStatus } from '../../../src/payouts/queried-status';
import type { QueriedPayout } from '../../../src/skypay/status-query';

function queried(overrides: Partial<QueriedPayout>): QueriedPayout {
  return {
    controlNumber: 'SKY990000000001',
    status: 2,
    statusDesc: '',
    transactionDate: '2026-11-27 08:00:00',
    payTime: '',
    cancelTime: '',
    withdrawChannel: '',
    referenceNo: '',
    traceNo: '',
    ...overrides,
  };
}

describe('payouts/queried-status: what a 7.1 status means for a payout', () => {
  it('2 Uploaded is still open', () => {
    expect(interpretQueriedStatus(queried({ status: 2 }))).to.include({ kind: 'open', state: 'uploaded' });
  });

  it('1 Completed is paid, dated by payTime (payType 2), else by transactionDate', () => {
    expect(interpretQueriedStatus(queried({ status: 1, payTime: '2026-11-27 09:00:00' }))).to.deep.equal({
      kind: 'final',
      state: 'paid',
      payType: 2,
      dealTime: '2026-11-27 09:00:00',
      dealTimeFrom: 'payTime',
    });
    expect(interpretQueriedStatus(queried({ status: 1 }))).to.include({
      dealTime: '2026-11-27 08:00:00',
      dealTimeFrom: 'transactionDate',
    });
  });

  it('3 Cancelled with a cancelTime is cancelled (payType 3, dated by cancelTime); without one it is still open', () => {
    expect(interpretQueriedStatus(queried({ status: 3, cancelTime: '2026-11-27 10:00:00' }))).to.deep.equal({
      kind: 'final',
      state: 'cancelled',
      payType: 3,
      dealTime: '2026-11-27 10:00:00',
      dealTimeFrom: 'cancelTime',
    });
    const pending = interpretQueriedStatus(queried({ status: 3, cancelTime: '' }));
    expect(pending).to.include({ kind: 'open', state: 'uploaded' });
  });

  it('4 Failed is failed (payType 4), dated by transactionDate; with no time at all it cannot be dated', () => {
    expect(interpretQueriedStatus(queried({ status: 4 }))).to.deep.equal({
      kind: 'final',
      state: 'failed',
      payType: 4,
      dealTime: '2026-11-27 08:00:00',
      dealTimeFrom: 'transactionDate',
    });
    expect(interpretQueriedStatus(queried({ status: 4, transactionDate: '' }))).to.deep.equal({
      kind: 'final',
      state: 'failed',
      payType: 4,
      dealTime: undefined,
      dealTimeFrom: undefined,
    });
  });

  it('0 Pending, 10, 11 and undocumented codes are recorded only', () => {
    expect(interpretQueriedStatus(queried({ status: 0 }))).to.deep.equal({ kind: 'record', reason: 'Pending' });
    expect(interpretQueriedStatus(queried({ status: 10 }))).to.deep.equal({
      kind: 'record',
      reason: 'Inquiry Success',
    });
    expect(interpretQueriedStatus(queried({ status: 11 }))).to.deep.equal({
      kind: 'record',
      reason: 'Inquiry Failure',
    });
    expect(interpretQueriedStatus(queried({ status: 7 }))).to.deep.equal({
      kind: 'record',
      reason: 'status 7 is not documented by SkyPay',
    });
  });
});
