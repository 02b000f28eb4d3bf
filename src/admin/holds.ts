import type Router from '@koa/router';
import type { Holds } from '../operations/holds';

/** A payout held behind a dead delivery at an ordered destination goes on without it (the delivery stays dead). */
export function addHoldRoutes(router: Router, holds: Holds): void {
  router.post('/deliveries/:id/release', async (ctx) => {
    ctx.body = await holds.release(ctx.params['id'] ?? '');
  });
}
