import type Router from '@koa/router';
import type { DestinationOperations } from '../operations/destinations';

/**
 * GET /admin/destinations (each destination's breaker state, backlog and last outcomes) and POST
 * /admin/destinations/:name/pause and /resume, mounted on the admin router (behind its token). `via` is how that
 * router authenticates its caller: recorded as who paused or resumed.
 */
export function addDestinationRoutes(router: Router, destinations: DestinationOperations, via: string): void {
  router.get('/destinations', async (ctx) => {
    ctx.body = { items: await destinations.list() };
  });
  router.post('/destinations/:name/pause', async (ctx) => {
    ctx.body = await destinations.pause(ctx.params['name'] ?? '', via);
  });
  router.post('/destinations/:name/resume', async (ctx) => {
    ctx.body = await destinations.resume(ctx.params['name'] ?? '', via);
  });
}
