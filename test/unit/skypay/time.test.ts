import { expect } from 'chai';
import { formatResponseTime, parseDealTime, parseOffsetMinutes } from '../../../src/skypay/time';

describe('skypay/time', () => {
  const PH = parseOffsetMinutes('+08:00');

  it('reads offsets', () => {
    expect(PH).to.equal(480);
    expect(parseOffsetMinutes('-05:30')).to.equal(-330);
    expect(() => parseOffsetMinutes('8')).to.throw(/\+08:00/);
  });

  it('formats responseTime as yyyy-MM-dd HH:mm:ss.SSSS in GMT+8', () => {
    const at = new Date('2018-06-18T09:52:10.521Z');
    expect(formatResponseTime(at, PH)).to.equal('2018-06-18 17:52:10.5210');
    // Crossing midnight and the year in the target zone.
    expect(formatResponseTime(new Date('2025-12-31T16:00:00.007Z'), PH)).to.equal('2026-01-01 00:00:00.0070');
    expect(formatResponseTime(new Date(), PH)).to.match(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{4}$/);
  });

  it('converts a GMT+8 dealTime to the UTC instant', () => {
    expect(parseDealTime('2018-08-07 11:58:33', PH)?.toISOString()).to.equal('2018-08-07T03:58:33.000Z');
    expect(parseDealTime('2024-01-01 07:00:00', PH)?.toISOString()).to.equal('2023-12-31T23:00:00.000Z');
    expect(parseDealTime('2024-02-29 12:00:00', PH)?.toISOString()).to.equal('2024-02-29T04:00:00.000Z');
  });

  for (const bad of [
    '2023-02-29 12:00:00',
    '2018-13-01 00:00:00',
    '2018-04-31 00:00:00',
    '2018-08-07 24:00:00',
    '2018-08-07 11:60:00',
    '2018-08-07T11:58:33',
    '2018-08-07 11:58',
    '2018-8-7 11:58:33',
    ' 2018-08-07 11:58:33',
    '',
  ]) {
    it(`refuses "${bad}" as a deal time`, () => {
      expect(parseDealTime(bad, PH)).to.equal(undefined);
    });
  }
});
