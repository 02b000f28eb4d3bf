import { createHash, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';

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
}

export const ADMIN_BEARER: BearerOptions = { realm: 'skyrelay admin', setting: 'admin.token' };

/**
 * `Authorization: Bearer <token>`, compared in constant time: both sides are
 * hashed first, so neither the content nor the length of the token leaks
 * through timing. Shared by /admin (admin.token) and /metrics (metrics.token).
 */
export function requireBearerToken(token: string, options: BearerOptions = ADMIN_BEARER): Koa.Middleware {
  const expected = digest(token);
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const presented = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? '';
    if (!timingSafeEqual(digest(presented), expected)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', `Bearer realm="${options.realm}"`);
      ctx.body = { error: `unauthorized: send Authorization: Bearer <${options.setting}>` };
      return;
    }
    await next();
  };
}
