import type Router from '@koa/router';
import type Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import { answerCallback, type AnswerDeps, type IngestState } from './answer';
import type { CallbackMediaType } from './content-type';
import { receiveCallback, rejected, type CallbackRequest, type ReceiveDeps } from './receive';
import { MethodNotAllowedError } from './rejections';

export interface CallbackRouteDeps {
  path: string;
  /** server.bodyLimit, as koa-bodyparser reads it ("1mb"). */
  bodyLimit: string;
  receive: ReceiveDeps;
  answer: AnswerDeps;
}

/**
 * {skypay.path}: POST runs receiveCallback(); any other method is rejected
 * with 405. answerCallback() turns either result into the answer.
 */
export function mountCallbackRoute<S extends IngestState>(router: Router<S>, deps: CallbackRouteDeps): void {
  const parseBody = bodyParser({
    enableTypes: ['json', 'text'],
    jsonLimit: deps.bodyLimit,
    textLimit: deps.bodyLimit,
    strict: true,
  });
  const answer = answerCallback(deps.answer);
  router.post(deps.path, answer, async (ctx) => {
    ctx.state.callback = await receiveCallback(callbackRequest(ctx, parseBody), deps.receive);
  });
  router.all(deps.path, answer, (ctx) => {
    const err = new MethodNotAllowedError(`${ctx.method} is not allowed here; SkyPay callbacks are POSTed`);
    ctx.state.callback = rejected(err, deps.answer.offsetMinutes);
  });
}

/** The request as receiveCallback() sees it: headers, and a body read only when it asks. */
function callbackRequest(ctx: Koa.Context, parseBody: Koa.Middleware): CallbackRequest {
  return {
    mediaType: mediaTypeOf(ctx),
    contentType: ctx.get('content-type'),
    contentLength: ctx.request.length,
    contentEncoding: ctx.get('content-encoding'),
    read: async () => {
      await parseBody(ctx, async () => {});
      const raw: unknown = ctx.request.rawBody;
      return { parsed: ctx.request.body, raw: typeof raw === 'string' ? raw : undefined };
    },
  };
}

/** Koa's reading of Content-Type (type-is: parameters, case, a request without a body). */
function mediaTypeOf(ctx: Koa.Context): CallbackMediaType | undefined {
  const type = ctx.is('application/json', 'text/plain');
  return type === 'application/json' ? 'json' : type === 'text/plain' ? 'text' : undefined;
}
