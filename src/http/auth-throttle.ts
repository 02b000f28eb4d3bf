import net from 'node:net';

/**
 * Failed credentials per client address, so a token cannot be guessed at full speed: after `maxFailures` within
 * `windowMs` the address is locked out for `lockoutMs`, doubling with each lockout that follows (up to
 * `maxLockoutMs`) until it has been quiet (no failure, no lockout) for `maxLockoutMs`. Pure bookkeeping with the clock passed in; memory is
 * bounded by `maxAddresses` (the least recently seen address is forgotten first).
 */
export interface AuthThrottleOptions {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  maxLockoutMs: number;
  maxAddresses: number;
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleOptions = {
  maxFailures: 10,
  windowMs: 60_000,
  lockoutMs: 60_000,
  maxLockoutMs: 3_600_000,
  maxAddresses: 10_000,
};

interface Entry {
  windowStartMs: number;
  failures: number;
  lockedUntilMs: number;
  /** Lockouts so far: the next one lasts lockoutMs * 2^lockouts. */
  lockouts: number;
  lastFailureMs: number;
}

export class AuthThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: AuthThrottleOptions) {}

  /** How long `address` must wait before it may present a credential again; 0 when it may now. */
  waitMs(address: string, nowMs: number): number {
    const entry = this.entries.get(addressKey(address));
    return entry ? Math.max(0, entry.lockedUntilMs - nowMs) : 0;
  }

  /** Records a wrong credential; returns the lockout it started (ms), or 0. */
  fail(address: string, nowMs: number): number {
    const key = addressKey(address);
    let entry = this.entries.get(key);
    if (entry) this.entries.delete(key);
    else {
      if (this.entries.size >= this.options.maxAddresses) this.forgetOldest();
      entry = { windowStartMs: nowMs, failures: 0, lockedUntilMs: 0, lockouts: 0, lastFailureMs: nowMs };
    }
    // Re-inserted: the map's order is then least recently failed first.
    this.entries.set(key, entry);
    // Quiet (no failure, no lockout) for maxLockoutMs: the doubling starts again.
    if (nowMs - Math.max(entry.lastFailureMs, entry.lockedUntilMs) >= this.options.maxLockoutMs) entry.lockouts = 0;
    if (nowMs - entry.windowStartMs >= this.options.windowMs) {
      entry.windowStartMs = nowMs;
      entry.failures = 0;
    }
    entry.lastFailureMs = nowMs;
    entry.failures += 1;
    if (entry.failures < this.options.maxFailures) return 0;
    const lockoutMs = Math.min(this.options.lockoutMs * 2 ** entry.lockouts, this.options.maxLockoutMs);
    entry.lockouts += 1;
    entry.lockedUntilMs = nowMs + lockoutMs;
    entry.windowStartMs = nowMs;
    entry.failures = 0;
    return lockoutMs;
  }

  /** A right credential: the address's failures are forgotten. */
  succeed(address: string): void {
    this.entries.delete(addressKey(address));
  }

  /** Addresses tracked now (at most maxAddresses). */
  get size(): number {
    return this.entries.size;
  }

  private forgetOldest(): void {
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.entries.delete(oldest.value);
  }
}

/**
 * The unit a client controls: an IPv4 address, or an IPv6 /64 (one host is usually given a whole /64, so counting
 * single IPv6 addresses would give it 2^64 fresh starts). IPv4-mapped IPv6 counts as IPv4.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!net.isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]?.split('::') ?? [''];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}
