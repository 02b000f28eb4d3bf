import { expect } from 'chai';
import { InvalidCallbackError } from '../../../src/ingest/rejections';
import { checkDealTimeWindow } from '../../../src/ingest/deal-time-window';

describe('ingest/deal-time-window checkDealTimeWindow', () => {
  const now = new Date('2026-11-27T04:00:00.000Z');
  const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);
  const window = { maxAgeDays: 30, maxFutureMinutes: 10 };

  it('accepts a dealTime exactly at either limit', () => {
    expect(() => checkDealTimeWindow(at(-30 * 86_400_000), now, window)).not.to.throw();
    expect(() => checkDealTimeWindow(at(10 * 60_000), now, window)).not.to.throw();
  });

  it('refuses a dealTime one second past either limit, naming dealTime and the setting', () => {
    expect(() => checkDealTimeWindow(at(-30 * 86_400_000 - 1000), now, window)).to.throw(
      InvalidCallbackError,
      'dealTime: is more than 30 days old (skypay.maxAgeDays)',
    );
    expect(() => checkDealTimeWindow(at(10 * 60_000 + 1000), now, window)).to.throw(
      InvalidCallbackError,
      'dealTime: is more than 10 minutes in the future (skypay.maxFutureMinutes)',
    );
  });

  it("names the field it was given: a financeNotification's transctionDate", () => {
    expect(() => checkDealTimeWindow(at(-31 * 86_400_000), now, window, 'transctionDate'))
      .to.throw(InvalidCallbackError)
      .with.property('message', 'transctionDate: is more than 30 days old (skypay.maxAgeDays)');
  });

  it('checks nothing for a limit left unset', () => {
    expect(() => checkDealTimeWindow(new Date('2018-08-07T03:58:33Z'), now, {})).not.to.throw();
    expect(() => checkDealTimeWindow(new Date('2099-01-01T00:00:00Z'), now, { maxAgeDays: 1 })).not.to.throw();
  });
});
