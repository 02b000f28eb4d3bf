import { expect } from 'chai';
import {
  FilterError,
  hasControlCharacters,
  parseConfirmation,
  parseCursor,
  parseDuration,
  parseEventType,
  parseLimit,
  parseName,
  parseSince,
  parseState,
  parseStatus,
} from '../../../src/operations/filters';

describe('filters shared by the CLI flags and the admin query string', () => {
  it('reads durations in s, m, h, d, w and refuses anything else, naming the flag', () => {
    expect(parseDuration('30s', 'x')).to.equal(30_000);
    expect(parseDuration('24h', 'x')).to.equal(86_400_000);
    expect(parseDuration('90d', 'x')).to.equal(90 * 86_400_000);
    expect(parseDuration('2w', 'x')).to.equal(14 * 86_400_000);
    expect(() => parseDuration('3 days', '--older-than')).to.throw(FilterError, /^--older-than: expected a duration/);
    expect(() => parseDuration('-1d', 'x')).to.throw(FilterError);
  });

  it('reads --since as a duration back from now or an ISO time', () => {
    expect(parseSince('1h', 10_000_000)).to.equal(10_000_000 - 3_600_000);
    expect(parseSince('2026-01-01T00:00:00Z')).to.equal(Date.parse('2026-01-01T00:00:00Z'));
    expect(() => parseSince('yesterday')).to.throw(FilterError, /since:/);
  });

  it('refuses durations and times no store can hold, and cursors and names with control characters', () => {
    expect(parseDuration('36500d', 'x')).to.equal(36_500 * 86_400_000);
    for (const huge of ['36501d', '9999999999999h', `${'9'.repeat(400)}s`]) {
      expect(() => parseDuration(huge, 'older-than'), huge).to.throw(FilterError, /^older-than: at most 36500d/);
    }
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(() => parseSince('9999999999999h', now)).to.throw(FilterError, /^since: at most/);
    expect(() => parseSince('25000d', now)).to.throw(FilterError, /^since: expected a time from 1970 to 9999/);
    expect(() => parseSince('+275760-09-13T00:00:00Z', now)).to.throw(FilterError, /from 1970 to 9999/);
    expect(parseSince('9999-12-31T23:59:59Z', now)).to.equal(Date.parse('9999-12-31T23:59:59Z'));
    expect(parseCursor('evt_01ABC-x')).to.equal('evt_01ABC-x');
    for (const bad of ['evt_\u0000', 'a b', '', 'x'.repeat(101)]) {
      expect(() => parseCursor(bad), JSON.stringify(bad)).to.throw(FilterError, /^cursor:/);
    }
    expect(() => parseName('ops\u0000', 'destination')).to.throw(FilterError, /^destination:/);
    expect(hasControlCharacters('a\u0000b')).to.equal(true);
    expect(hasControlCharacters('Plain@skypay')).to.equal(false);
  });

  it('accepts payout statuses by name or payType number, and known event types and delivery states', () => {
    expect(parseStatus('failure')).to.equal('failure');
    expect(parseStatus('4')).to.equal('failure');
    expect(() => parseStatus('failed')).to.throw(FilterError, /expected one of upload, paid/);
    expect(parseEventType('delivery.dead')).to.equal('delivery.dead');
    expect(() => parseEventType('dead')).to.throw(FilterError);
    expect(parseState('dead')).to.equal('dead');
    expect(() => parseState('failed')).to.throw(FilterError, /pending, inflight, delivered, dead/);
  });

  it('bounds limits to whole numbers from 1 to the maximum', () => {
    expect(parseLimit('50')).to.equal(50);
    for (const bad of ['0', '1001', '2.5', 'ten', '']) expect(() => parseLimit(bad), bad).to.throw(FilterError);
  });

  it("accepts a payout's confirmation by name, and payout.confirmed as an event type", () => {
    expect(parseConfirmation('contradicted')).to.equal('contradicted');
    expect(() => parseConfirmation('verified')).to.throw(
      FilterError,
      /^confirmation: expected one of pending, confirmed, contradicted, off \(got "verified"\)/,
    );
    expect(parseEventType('payout.confirmed')).to.equal('payout.confirmed');
  });
});
