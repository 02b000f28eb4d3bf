import { html } from '../html';
import { errorBox, type Page } from '../layout';

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
