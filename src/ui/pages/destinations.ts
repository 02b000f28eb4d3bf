import { fingerprint } from '../../http/bearer';
import type { DestinationOperations, DestinationStatus } from '../../operations/destinations';
import { DeliveryError, NotFoundError, RefusedError } from '../../operations/errors';
import { html, type Fragment, type Html } from '../html';
import { csrfField, errorBox, orDash, showTime, statePill, type Page } from '../layout';
import type { Ctx, PageRoutes } from '../respond';

export async function renderDestinations(
  destinations: Pick<DestinationOperations, 'list'>,
  csrf: string,
  result: Html = html``,
): Promise<Page> {
  const rows = await destinations.list();
  const body = html`<h1>Destinations</h1>
    ${result}
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">State</th>
            <th scope="col">Backlog</th>
            <th scope="col">Dead</th>
            <th scope="col">Last success</th>
            <th scope="col">Last error</th>
            <th scope="col"><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          ${
            rows.length === 0
              ? html`<tr>
                  <td colspan="8">No destinations are configured.</td>
                </tr>`
              : ''
          }
          ${rows.map(
            (d) =>
              html`<tr data-destination="${d.name}">
                <th scope="row"><a href="/ui/deliveries?destination=${encodeURIComponent(d.name)}">${d.name}</a></th>
                <td>${d.type ?? 'not configured'}</td>
                <td data-testid="state-${d.name}">${renderState(d)}</td>
                <td>${d.backlog}</td>
                <td>${d.dead}</td>
                <td>${showTime(d.lastSuccessAt ?? undefined)}</td>
                <td class="snippet">${renderLastError(d)}</td>
                <td>${d.type === undefined ? '' : renderActions(d, csrf)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <p>
      Open: failures in a row; one probe per interval until a send goes through. Paused: nothing is sent until resumed
      (by hand, or after a webhook answered 410 Gone). Either way deliveries wait pending and new ones are taken. Resume
      also closes an open breaker. Send test sends a clearly marked sample payout (control number SKYRELAYTEST00) now,
      outside the queue.
    </p>`;
  return { title: 'Destinations', body };
}

function renderState(d: DestinationStatus): Html {
  if (d.state === 'closed')
    return html`${statePill('closed')}${d.breaker === undefined ? html` <small>no breaker</small>` : ''}`;
  const why =
    d.reason === 'gone'
      ? '410 Gone'
      : d.reason === 'manual'
        ? `paused by ${d.pausedBy ?? 'hand'}`
        : 'failures in a row';
  return html`${statePill(d.state)}<br /><small
      >${why}, since
      ${showTime(d.since ?? undefined)}${d.nextProbeAt === null ? '' : html`; next probe ${showTime(d.nextProbeAt)}`}</small
    >`;
}

function renderActions(d: DestinationStatus, csrf: string): Html {
  const action = (verb: 'pause' | 'resume', label: string) =>
    html`<form method="post" action="/ui/destinations/${encodeURIComponent(d.name)}/${verb}" class="inline">
      ${csrfField(csrf)}<button type="submit" aria-label="${label} ${d.name}">${label}</button>
    </form>`;
  return html`${d.state === 'closed' ? action('pause', 'Pause') : action('resume', 'Resume')}
    <form method="post" action="/ui/destinations/${encodeURIComponent(d.name)}/test" class="inline">
      ${csrfField(csrf)}<button type="submit" aria-label="Send test to ${d.name}">Send test</button>
    </form>`;
}

/** Who pauses or resumes here: the session (its id's fingerprint, never the id), signed in with the admin token. */
function actorOf(ctx: Ctx, token: string): string {
  const session = ctx.state.session;
  return `dashboard session ${session ? fingerprint(session.id) : '?'} (admin token ${fingerprint(token)})`;
}

export const destinationsRoutes: PageRoutes = (router, { deps, csrfOf, page }) => {
  const { destinations, sendTest } = deps.operations;
  router.get('/ui/destinations', async (ctx) => {
    page(ctx, await renderDestinations(destinations, csrfOf(ctx)));
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
    page(ctx, await renderDestinations(destinations, csrfOf(ctx), result));
  });

  for (const verb of ['pause', 'resume'] as const) {
    router.post(`/ui/destinations/:name/${verb}`, async (ctx) => {
      const name = ctx.params['name'] ?? '';
      let result;
      let status = 200;
      try {
        const done = await destinations[verb](name, actorOf(ctx, deps.token));
        const waiting = `${done.backlog} deliver${done.backlog === 1 ? 'y' : 'ies'} waiting`;
        result = html`<p class="notice" role="status">
          ${
            !done.changed
              ? `${name} was already ${done.state}.`
              : verb === 'pause'
                ? `${name} paused: nothing is sent to it until it is resumed (${waiting}).`
                : `${name} resumed: ${waiting} ${done.backlog === 1 ? 'goes' : 'go'} out oldest first.`
          }
        </p>`;
      } catch (err) {
        if (!(err instanceof RefusedError || err instanceof NotFoundError)) throw err;
        // On the page, not ctx: page() answers with the page's own status.
        status = err instanceof NotFoundError ? 404 : 409;
        result = errorBox(err.message);
      }
      page(ctx, { ...(await renderDestinations(destinations, csrfOf(ctx), result)), status });
    });
  }
};

/**
 * A destination's last failed attempt, and whether it is behind it: a 429 or 503 that a later attempt got past is
 * history, not an outage, and says so.
 */
function renderLastError(a: DestinationStatus): Fragment {
  if (a.lastErrorAt === null) return orDash(null);
  const recovered = a.lastSuccessAt !== null && Date.parse(a.lastSuccessAt) > Date.parse(a.lastErrorAt);
  return html`${showTime(a.lastErrorAt)}<br />${a.lastErrorStatus === null ? '' : `HTTP ${a.lastErrorStatus} `}${orDash(
      a.lastError,
    )}
    ${
      recovered
        ? html`<br /><small class="ok" data-testid="recovered-${a.name}"
              >Delivered since: a later attempt succeeded.</small
            >`
        : ''
    }`;
}
