import { expect } from 'chai';
import { AuthThrottle, addressKey, type AuthThrottleOptions } from '../../../src/http/auth-throttle';

const OPTIONS: AuthThrottleOptions = {
  maxFailures: 10,
  windowMs: 60_000,
  lockoutMs: 60_000,
  maxLockoutMs: 3_600_000,
  maxAddresses: 100,
};
const T0 = 1_700_000_000_000;

function failTimes(throttle: AuthThrottle, address: string, times: number, at: number): number[] {
  return Array.from({ length: times }, () => throttle.fail(address, at));
}

describe('http/auth-throttle: wrong credentials per address (pure, clock passed in)', () => {
  it('locks an address out after 10 failures within a minute, for a minute, and not before', () => {
    const throttle = new AuthThrottle(OPTIONS);
    const started = failTimes(throttle, '198.51.100.7', 9, T0);
    expect(started.every((ms) => ms === 0)).to.equal(true);
    expect(throttle.waitMs('198.51.100.7', T0)).to.equal(0);
    expect(throttle.fail('198.51.100.7', T0 + 1)).to.equal(60_000);
    expect(throttle.waitMs('198.51.100.7', T0 + 1)).to.equal(60_000);
    expect(throttle.waitMs('198.51.100.7', T0 + 30_001)).to.equal(30_000);
    expect(throttle.waitMs('198.51.100.7', T0 + 60_001)).to.equal(0);
    expect(throttle.waitMs('198.51.100.8', T0 + 1), 'another address').to.equal(0);
  });

  it('forgets failures spread wider than the window', () => {
    const throttle = new AuthThrottle(OPTIONS);
    for (let i = 0; i < 30; i++) expect(throttle.fail('198.51.100.7', T0 + i * 7_000)).to.equal(0);
  });

  it('doubles each further lockout up to maxLockoutMs, and starts again after a quiet maxLockoutMs', () => {
    const throttle = new AuthThrottle(OPTIONS);
    let now = T0;
    const lockouts: number[] = [];
    for (let round = 0; round < 8; round++) {
      const started = failTimes(throttle, '198.51.100.7', 10, now).filter((ms) => ms > 0);
      lockouts.push(...started);
      now += (started[0] ?? 0) + 1;
    }
    expect(lockouts).to.deep.equal([60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000]);
    now += 3_600_000;
    expect(failTimes(throttle, '198.51.100.7', 10, now).filter((ms) => ms > 0)).to.deep.equal([60_000]);
  });

  it('forgets an address that presents the right credential', () => {
    const throttle = new AuthThrottle(OPTIONS);
    failTimes(throttle, '198.51.100.7', 9, T0);
    throttle.succeed('198.51.100.7');
    expect(throttle.fail('198.51.100.7', T0)).to.equal(0);
  });

  it('keeps at most maxAddresses, forgetting the least recently failed first', () => {
    const throttle = new AuthThrottle(OPTIONS);
    failTimes(throttle, '198.51.100.7', 9, T0);
    for (let i = 0; i < 1_000; i++) throttle.fail(`10.0.${Math.floor(i / 250)}.${i % 250}`, T0 + 1);
    expect(throttle.size).to.equal(100);
    // The first address was forgotten: its nine failures no longer count.
    expect(throttle.fail('198.51.100.7', T0 + 2)).to.equal(0);
  });

  it('counts an IPv6 /64 as one client, and IPv4-mapped IPv6 as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).to.equal('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).to.equal('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).to.equal('2001:db8:0:0::/64');
    expect(addressKey('::1')).to.equal('0:0:0:0::/64');
    expect(addressKey('::ffff:127.0.0.1')).to.equal('127.0.0.1');
    expect(addressKey('192.0.2.1')).to.equal('192.0.2.1');
    const throttle = new AuthThrottle(OPTIONS);
    for (let i = 0; i < 9; i++) throttle.fail(`2001:db8:1:2::${i + 1}`, T0);
    expect(throttle.fail('2001:db8:1:2:ffff::9', T0)).to.equal(60_000);
    expect(throttle.waitMs('2001:db8:1:3::1', T0)).to.equal(0);
  });
});
