import type { DestinationsConfig } from '../../destinations/schema';
import type { DashboardOperations } from '../../operations/dashboard';
import { DeliveryError } from '../../operations/errors';
import type { DestinationActivity } from '../../operations/views';
import { html, type Fragment, type Html } from '../html';
import { csrfField, errorBox, orDash, showTime, type Page } from '../layout';
import type { PageRoutes } from '../respond';

export async function renderDestinations(
  dashboard: Pick<DashboardOperations, 'readDestinations'>,
  configured: DestinationsConfig,
  csrf: string,
  result: Html = html``,
): Promise<Page> {
  const { queue, activity } = await dashboard.readDestinations();
  const names = [
    ...new Set([
      ...Object.keys(configured),
      ...activity.map((a) => a.destination),
      ...queue.byDestination.map((r) => r.destination),
    ]),
  ].sort();
  const count = (name: string, states: string[]): number =>
    queue.byDestination
      .filter((r) => r.destination === name && states.includes(r.state))
      .reduce((n, r) => n + r.count, 0);
  const body = html`<h1>Destinations</h1>
    ${result}
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Pending</th>
            <th scope="col">Dead</th>
            <th scope="col">Last success</th>
            <th scope="col">Last error</th>
            <th scope="col"><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          ${
            names.length === 0
              ? html`<tr>
                  <td colspan="7">No destinations are configured.</td>
                </tr>`
              : ''
          }
          ${names.map((name) => {
            const config = configured[name];
            const a = activity.find((x) => x.destination === name);
            return html`<tr>
              <th scope="row"><a href="/ui/deliveries?destination=${encodeURIComponent(name)}">${name}</a></th>
              <td>${config?.type ?? 'not configured'}</td>
              <td>${count(name, ['pending', 'inflight'])}</td>
              <td>${count(name, ['dead'])}</td>
              <td>${showTime(a?.lastSuccessAt)}</td>
              <td class="snippet">${a ? renderLastError(a) : orDash(null)}</td>
              <td>
                ${
                  config
                    ? html`<form
                        method="post"
                        action="/ui/destinations/${encodeURIComponent(name)}/test"
                        class="inline"
                      >
                        ${csrfField(csrf)}<button type="submit" aria-label="Send test to ${name}">Send test</button>
                      </form>`
                    : ''
                }
              </td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
    <p>Send test sends a clearly marked sample payout (control number SKYRELAYTEST00) now, outside the queue.</p>`;
  return { title: 'Destinations', body };
}

export const destinationsRoutes: PageRoutes = (router, { deps, csrfOf, page }) => {
  const { dashboard, sendTest } = deps.operations;
  router.get('/ui/destinations', async (ctx) => {
    page(ctx, await renderDestinations(dashboard, deps.destinations, csrfOf(ctx)));
  });

  router.post('/ui/destinations/:name/test', async (ctx) => {
    const name = ctx.params['name'] ?? '';
    let result;
    try {
      const sent = await sendTest(name);
      const answer = sent.status === undefined ? 'accepted' : `HTTP ${sent.status}`;
      result = html`<p class="notice" role="status">
        Sent a sample event to ${name} in ${sent.ms} ms (delivery id ${sent.deliveryId}). The receiver answered
        ${answer}${sent.response ? html`: <q class="snippet">${sent.response}</q>` : ''}.
      </p>`;
    } catch (err) {
      if (!(err instanceof DeliveryError)) throw err;
      // Destinations scrub their own secrets out of these messages.
      result = errorBox(`Sending to ${name} failed: ${err.message}`);
    }
    page(ctx, await renderDestinations(dashboard, deps.destinations, csrfOf(ctx), result));
  });
};

/**
 * A destination's last failed attempt, and whether it is behind it: a 429 or 503 that a later attempt got past is
 * history, not an outage, and says so.
 */
function renderLastError(a: DestinationActivity): Fragment {
  if (a.lastErrorAt === null) return orDash(null);
  const recovered = a.lastSuccessAt !== null && Date.parse(a.lastSuccessAt) > Date.parse(a.lastErrorAt);
  return html`${showTime(a.lastErrorAt)}<br />${a.lastErrorStatus === null ? '' : `HTTP ${a.lastErrorStatus} `}${orDash(
      a.lastError,
    )}
    ${
      recovered
        ? html`<br /><small class="ok" data-testid="recovered-${a.destination}"
              >Delivered since: a later attempt succeeded.</small
            >`
        : ''
    }`;
}
