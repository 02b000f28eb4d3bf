import type Koa from 'koa';
import { UnsupportedMediaTypeError } from '../errors';

/** Refuses anything but JSON and text/plain (SkyPay's encrypted form) before a byte of body is read. */
export function requireCallbackContentType(): Koa.Middleware {
  return async (ctx, next) => {
    if (!ctx.is('application/json', 'text/plain')) {
      throw new UnsupportedMediaTypeError(
        `content-type ${ctx.get('content-type') || '(none)'} is not accepted: send application/json, or text/plain with an encrypted body`,
      );
    }
    await next();
  };
}
