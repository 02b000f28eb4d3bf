import { createHash, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import type { AuthGate } from './auth-gate';
import type { AuthSurface } from './types';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * A token as the audit names it: the first 8 hex digits of its SHA-256. Tells one configured token from another
 * (after a rotation, admin from metrics) without being usable as one.
 */
export function fingerprint(secret: string): string {
  return digest(secret).toString('hex').slice(0, 8);
}

export interface BearerOptions {
  /** Named in WWW-Authenticate. */
  realm: string;
  /** The config key holding the token, named in the 401 (never the token). */
  setting: string;
  /** What the failure counts as, in the logs and metrics. */
  surface: AuthSurface;
}

export const ADMIN_BEARER: BearerOptions = { realm: 'skyrelay admin', setting: 'admin.token', surface: 'admin' };

/**
 * `Authorization: Bearer <token>`, compared in constant time: both sides are
 * hashed first, so neither the content nor the length of the token leaks
 * through timing. Shared by /admin (admin.token) and /metrics (metrics.token). With a gate, an address that keeps
 * presenting wrong tokens is locked out (429) before its token is even compared.
 */
export function requireBearerToken(
  token: string,
  options: BearerOptions = ADMIN_BEARER,
  gate?: AuthGate,
): Koa.Middleware {
  const expected = digest(token);
  const tooMany = (ctx: Koa.Context) => (seconds: number) => {
    ctx.body = { error: `too many wrong tokens from this address: retry after ${seconds} s` };
  };
  return async (ctx, next) => {
    if (gate && !gate.admit(ctx, options.surface, tooMany(ctx))) return;
    const header = ctx.get('authorization');
    const presented = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? '';
    if (!timingSafeEqual(digest(presented), expected)) {
      // Only a token presented is a guess: a request without one (a probe, a misconfigured scraper) is not counted.
      if (presented !== '') gate?.failed(ctx, options.surface);
      ctx.status = 401;
      ctx.set('WWW-Authenticate', `Bearer realm="${options.realm}"`);
      ctx.body = { error: `unauthorized: send Authorization: Bearer <${options.setting}>` };
      return;
    }
    gate?.succeeded(ctx);
    await next();
  };
}
