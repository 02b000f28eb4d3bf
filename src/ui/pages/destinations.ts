import type { DestinationsConfig } from '../../destinations/schema';
import type { InspectStore, DashboardStore } from '../../store/store';
import { html, type Html } from '../html';
import { csrfField, orDash, showTime, type Page } from '../layout';

export async function renderDestinations(
  store: InspectStore & DashboardStore,
  configured: DestinationsConfig,
  csrf: string,
  result: Html = html``,
): Promise<Page> {
  const [queue, activity] = await Promise.all([store.readQueueState(), store.readDestinationActivity()]);
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
              <td class="snippet">
                ${
                  a?.lastErrorAt
                    ? html`${showTime(a.lastErrorAt)}<br />${a.lastErrorStatus === null ? '' : `HTTP ${a.lastErrorStatus} `}${orDash(
                          a.lastError,
                        )}`
                    : orDash(null)
                }
              </td>
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
