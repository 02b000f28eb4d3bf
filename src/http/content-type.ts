import type Koa from 'koa';
import { UnsupportedMediaTypeError } from '../errors';

/**
 * Refuses anything but JSON and text/plain (SkyPay's encrypted form) before a byte of body is read.
 * The header is the sender's text: it is described by its size, never repeated, since the
 * description reaches logs, the rejections table and alerts in Slack and email.
 */
export function requireCallbackContentType(): Koa.Middleware {
  return async (ctx, next) => {
    if (!ctx.is('application/json', 'text/plain')) {
      const header = ctx.get('content-type');
      const what = header === '' ? 'no content type' : `unsupported content type, ${Buffer.byteLength(header)} bytes`;
      throw new UnsupportedMediaTypeError(`${what}: send application/json, or text/plain with an encrypted body`);
    }
    await next();
  };
}
