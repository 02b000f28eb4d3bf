import type { RuntimeEvents } from '../runtime/events';
import type Koa from 'koa';
import type { Logger } from '../log';
import { AuthThrottle, addressKey, type AuthThrottleOptions } from './auth-throttle';
import type { AuthRefusal, AuthSurface } from './types';

/** Where a credential is presented: the admin API's bearer token, the metrics token, the dashboard's sign-in. */

export interface AuthGateDeps {
  logger: Logger;
  /** Each refusal, for the metrics (skyrelay_auth_failures_total). */
  onRefused: (surface: AuthSurface, outcome: AuthRefusal) => void;
  now?: () => number;
}

/** At most this many warn lines a minute about failed credentials, whatever the flood; each says what it left out. */
export const AUTH_LOG_LINES_PER_MINUTE = 10;

/**
 * One per process, shared by every place a credential is presented, so guessing on /metrics counts against /admin
 * too. A locked-out address gets 429 with Retry-After and its credential is not even checked (checking it would
 * tell a guesser which guess was right). Failures are logged sampled: the first of an address's window and each
 * lockout, within AUTH_LOG_LINES_PER_MINUTE; the metrics count every one.
 */
export class AuthGate {
  private readonly throttle: AuthThrottle;
  private readonly now: () => number;
  private logMinuteMs = 0;
  private linesThisMinute = 0;
  private notLogged = 0;
  /** Addresses whose failure this window was logged already (cleared with the throttle's window). */
  private readonly loggedThisWindow = new Map<string, number>();

  constructor(
    private readonly options: AuthThrottleOptions,
    private readonly deps: AuthGateDeps,
  ) {
    this.throttle = new AuthThrottle(options);
    this.now = deps.now ?? Date.now;
  }

  /**
   * Before a credential is checked: false (and the 429 answered, Retry-After set, `body` as the answer) when the
   * address is locked out.
   */
  admit(ctx: Koa.Context, surface: AuthSurface, body: (retryAfterSeconds: number) => void): boolean {
    const waitMs = this.throttle.waitMs(ctx.ip, this.now());
    if (waitMs === 0) return true;
    const seconds = Math.ceil(waitMs / 1000);
    ctx.status = 429;
    ctx.set('Retry-After', String(seconds));
    body(seconds);
    this.deps.onRefused(surface, 'throttled');
    this.notLogged += 1;
    return false;
  }

  /** A wrong credential from ctx's address. */
  failed(ctx: Koa.Context, surface: AuthSurface): void {
    const now = this.now();
    const lockedMs = this.throttle.fail(ctx.ip, now);
    this.deps.onRefused(surface, 'wrong');
    const key = addressKey(ctx.ip);
    const loggedAt = this.loggedThisWindow.get(key);
    const first = loggedAt === undefined || now - loggedAt >= this.options.windowMs;
    if ((!first && lockedMs === 0) || !this.takeLogLine(now)) {
      this.notLogged += 1;
      return;
    }
    if (first) this.remember(key, now);
    const notLogged = this.notLogged;
    this.notLogged = 0;
    const fields = { surface, remoteAddress: ctx.ip, path: ctx.path, notLogged };
    if (lockedMs > 0) {
      this.deps.logger.warn(
        { ...fields, lockedOutSeconds: Math.ceil(lockedMs / 1000) },
        `${this.options.maxFailures} wrong credentials from one address: it gets 429 until the lockout ends`,
      );
    } else {
      this.deps.logger.warn(fields, 'wrong credential (more from this address are counted, not logged)');
    }
  }

  succeeded(ctx: Koa.Context): void {
    this.throttle.succeed(ctx.ip);
  }

  private takeLogLine(now: number): boolean {
    if (now - this.logMinuteMs >= 60_000) {
      this.logMinuteMs = now;
      this.linesThisMinute = 0;
    }
    if (this.linesThisMinute >= AUTH_LOG_LINES_PER_MINUTE) return false;
    this.linesThisMinute += 1;
    return true;
  }

  /** Bounded like the throttle: the oldest entry goes first. */
  private remember(key: string, now: number): void {
    this.loggedThisWindow.delete(key);
    if (this.loggedThisWindow.size >= this.options.maxAddresses) {
      const oldest = this.loggedThisWindow.keys().next();
      if (!oldest.done) this.loggedThisWindow.delete(oldest.value);
    }
    this.loggedThisWindow.set(key, now);
  }
}

/** The daemon's one gate for /admin, /metrics and the dashboard's sign-in: each refusal told on the bus (metrics). */
export function authGateOf(settings: AuthThrottleOptions, logger: Logger, events: RuntimeEvents): AuthGate {
  return new AuthGate(settings, {
    logger,
    onRefused: (surface, outcome) => events.emit('auth.refused', { surface, outcome }),
  });
}
