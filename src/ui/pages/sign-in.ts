import bodyParser from 'koa-bodyparser';
import { html } from '../html';
import { errorBox, type Page } from '../layout';
import {
  formOf,
  formText,
  readQuery,
  safeBack,
  send,
  setCookie,
  type DashboardDeps,
  type DashboardRouter,
  type PageRoutes,
} from '../respond';
import type { SessionKeys } from '../session';

export function renderSignIn(next: string, problem?: string): Page {
  const body = html`<h1>Sign in</h1>
    ${problem === undefined ? '' : errorBox(problem)}
    <form method="post" action="/ui/sign-in" class="sign-in">
      <input type="hidden" name="next" value="${next}" />
      <div class="field">
        <label for="token">Admin token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
      </div>
      <button type="submit">Sign in</button>
    </form>
    <p><small>The admin token is admin.token in skyrelay's configuration.</small></p>`;
  return { title: 'Sign in', body, status: problem === undefined ? 200 : 401 };
}

/** Signing in needs no session: these routes are on the open router, which the guard runs first. */
export function addSignInRoutes(router: DashboardRouter, deps: DashboardDeps, keys: SessionKeys): void {
  const now = deps.now ?? Date.now;
  const lifetimeMs = deps.sessionHours * 3_600_000;

  router.get('/ui/sign-in', (ctx) => {
    send(ctx, renderSignIn(safeBack(readQuery(ctx)['next'])), undefined);
  });

  router.post('/ui/sign-in', bodyParser({ enableTypes: ['form'], formLimit: '8kb' }), (ctx) => {
    const form = formOf(ctx);
    const next = safeBack(formText(form, 'next'));
    const tooMany = (seconds: number) => {
      const problem = `Too many wrong tokens from your address: try again in ${seconds} s.`;
      send(ctx, { ...renderSignIn(next, problem), status: 429 }, undefined);
    };
    if (deps.gate && !deps.gate.admit(ctx, 'dashboard', tooMany)) return;
    const token = form['token'];
    if (typeof token !== 'string' || !keys.checkToken(token)) {
      // Logged by the gate, sampled: a guessing flood must not write a line per guess.
      if (deps.gate) {
        if (typeof token === 'string' && token !== '') deps.gate.failed(ctx, 'dashboard');
      } else deps.logger.warn({ remoteAddress: ctx.ip }, 'dashboard sign-in with a wrong token');
      send(ctx, renderSignIn(next, 'That is not the admin token.'), undefined);
      return;
    }
    deps.gate?.succeeded(ctx);
    const { cookie } = keys.issue(now(), lifetimeMs);
    setCookie(ctx, deps.trustProxy, cookie, Math.floor(lifetimeMs / 1000));
    ctx.status = 303;
    ctx.redirect(next);
  });
}

export const signOutRoutes: PageRoutes = (router, { deps }) => {
  router.post('/ui/sign-out', async (ctx) => {
    const session = ctx.state.session;
    if (session) await deps.operations.dashboard.endSession(session.id, session.expiresMs);
    setCookie(ctx, deps.trustProxy, '', 0);
    ctx.status = 303;
    ctx.redirect('/ui/sign-in');
  });
};
