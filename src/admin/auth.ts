import { createHash, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * `Authorization: Bearer <admin.token>`, compared in constant time: both
 * sides are hashed first, so neither the content nor the length of the
 * token leaks through timing.
 */
export function requireBearerToken(token: string): Koa.Middleware {
  const expected = digest(token);
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const presented = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? '';
    if (!timingSafeEqual(digest(presented), expected)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="skyrelay admin"');
      ctx.body = { error: 'unauthorized: send Authorization: Bearer <admin.token>' };
      return;
    }
    await next();
  };
}
