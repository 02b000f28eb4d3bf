import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';

/**
 * The baseline: Koa and koa-bodyparser with the daemon's parser options,
 * answering SkyPay's success reply without authenticating, validating or
 * storing anything. What skyrelay costs is measured against this.
 */
function startBareKoa(): void {
  const app = new Koa();
  app.silent = true;
  app.use(bodyParser({ enableTypes: ['json', 'text'], jsonLimit: '1mb', textLimit: '1mb', strict: true }));
  app.use(async (ctx) => {
    if (ctx.method !== 'POST' || ctx.path !== '/callbacks/skypay') {
      ctx.status = 404;
      return;
    }
    const body = ctx.request.body as Record<string, unknown> | undefined;
    ctx.status = typeof body === 'object' && body !== null ? 200 : 400;
    ctx.type = 'application/json';
    ctx.body = JSON.stringify({
      responseTime: new Date().toISOString(),
      responseCode: '1000',
      responseDescription: 'Success',
    });
  });
  const server = app.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  process.on('disconnect', () => process.exit(0));
}

startBareKoa();
