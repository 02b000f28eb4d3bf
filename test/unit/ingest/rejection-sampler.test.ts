import { expect } from 'chai';
import { addressBlock } from '../../../src/ingest/address-block';
import { RejectionSampler } from '../../../src/ingest/rejection-sampler';

describe('ingest/rejection-sampler', () => {
  const sampler = (maxSources = 100, totalPerWindow = 1_000) =>
    new RejectionSampler({ perWindow: 2, windowMs: 60_000, maxSources, totalPerWindow });

  it('keeps the first perWindow rejections per reason and address in a window, counts the rest on the last', () => {
    const s = sampler();
    const kept = [1, 2, 3, 4].map((i) => s.admit('unauthenticated', '10.0.0.1', `rej_${i}`, 1_000 + i));
    expect(kept).to.deep.equal([true, true, false, false]);
    expect(s.admit('invalid', '10.0.0.1', 'rej_5', 1_005)).to.equal(true);
    expect(s.admit('unauthenticated', '10.0.0.2', 'rej_6', 1_006)).to.equal(true);
    expect(s.drain(2_000)).to.deep.equal({ counts: [{ rejectionId: 'rej_2', count: 2 }], overflowed: 0 });
    expect(s.drain(3_000).counts).to.deep.equal([]);
  });

  it("opens a new window after windowMs, and still hands out the old one's count", () => {
    const s = sampler();
    for (let i = 0; i < 5; i++) s.admit('unauthenticated', 'a', `rej_${i}`, 0);
    expect(s.admit('unauthenticated', 'a', 'rej_new', 60_000)).to.equal(true);
    expect(s.drain(60_001).counts).to.deep.equal([{ rejectionId: 'rej_1', count: 3 }]);
  });

  it('tracks at most maxSources pairs, counting rejections beyond them as overflow', () => {
    const s = sampler(2);
    expect(s.admit('r', 'a', 'x1', 0)).to.equal(true);
    expect(s.admit('r', 'b', 'x2', 0)).to.equal(true);
    expect(s.admit('r', 'c', 'x3', 0)).to.equal(false);
    expect(s.drain(1).overflowed).to.equal(1);
    // Once their windows end, room is made for new sources.
    expect(s.admit('r', 'c', 'x4', 60_000)).to.equal(true);
  });

  it('keeps at most totalPerWindow rows a minute across all sources, counting the rest on a row of their reason', () => {
    const s = sampler(100, 3);
    const kept = ['a', 'b', 'c', 'd', 'e'].map((source, i) => s.admit('unauthenticated', source, `rej_${i}`, 1_000));
    expect(kept).to.deep.equal([true, true, true, false, false]);
    // A source with a row of its own in the window still has its count on that row.
    expect(s.admit('unauthenticated', 'a', 'rej_a2', 1_001)).to.equal(false);
    expect(s.drain(2_000)).to.deep.equal({
      counts: [
        { rejectionId: 'rej_0', count: 1 },
        { rejectionId: 'rej_2', count: 2 },
      ],
      overflowed: 0,
    });
    // The total's window is the calendar minute: the next one keeps again.
    expect(s.admit('unauthenticated', 'f', 'rej_f', 60_000)).to.equal(true);
  });

  it('counts a rejection refused room elsewhere (allowed false) like one past the total', () => {
    const s = sampler();
    expect(s.admit('invalid', 'a', 'rej_1', 0, false), 'nothing of its reason kept yet').to.equal(false);
    expect(s.drain(1)).to.deep.equal({ counts: [], overflowed: 1 });
    expect(s.admit('invalid', 'a', 'rej_2', 2)).to.equal(true);
    expect(s.admit('invalid', 'b', 'rej_3', 3, false)).to.equal(false);
    expect(s.drain(4).counts).to.deep.equal([{ rejectionId: 'rej_2', count: 1 }]);
  });

  it('says beforehand whether a rejection would be kept, without counting it', () => {
    const s = sampler(100, 2);
    expect(s.wouldKeep('r', 'a', 0)).to.equal(true);
    s.admit('r', 'a', 'x1', 0);
    s.admit('r', 'a', 'x2', 0);
    expect(s.wouldKeep('r', 'a', 1), 'its source is full').to.equal(false);
    expect(s.wouldKeep('r', 'b', 1), 'the total is full').to.equal(false);
    expect(s.drain(2)).to.deep.equal({ counts: [], overflowed: 0 });
  });
});

describe('ingest/address-block', () => {
  it('puts IPv4 addresses in their /24 and IPv6 addresses in their /64, whatever the spelling', () => {
    expect(addressBlock('127.3.200.17')).to.equal('127.3.200.0/24');
    expect(addressBlock('::ffff:203.0.113.9')).to.equal('203.0.113.0/24');
    expect(addressBlock('2001:db8:1:2:3:4:5:6')).to.equal('2001:db8:1:2::/64');
    expect(addressBlock('2001:0DB8:0001:0002::9')).to.equal('2001:db8:1:2::/64');
    expect(addressBlock('2001:db8::1')).to.equal('2001:db8:0:0::/64');
    expect(addressBlock('::1')).to.equal('0:0:0:0::/64');
    expect(addressBlock('fe80::1%eth0')).to.equal('fe80:0:0:0::/64');
    expect(addressBlock('64:ff9b::192.0.2.1')).to.equal('64:ff9b:0:0::/64');
  });

  it('leaves anything that is not an address as its own block', () => {
    expect(addressBlock(undefined)).to.equal('');
    expect(addressBlock('not an IP address, 12 bytes')).to.equal('not an IP address, 12 bytes');
  });
});
