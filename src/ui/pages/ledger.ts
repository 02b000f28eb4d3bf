import { FilterError } from '../../operations/errors';
import type { LedgerOperations } from '../../operations/ledger';
import type { Ledger, LedgerRoutes, Unexplained } from '../../operations/views';
import { html, type Html } from '../html';
import { errorBox, showAge, type Page } from '../layout';
import { readQuery, type PageRoutes } from '../respond';

type Query = Record<string, string | undefined>;

/** A link to the rows behind a count (the listing filtered as near as its filters go), or the plain 0. */
function count(n: number, href: string, what: string): Html {
  if (n === 0) return html`<span class="none">0</span>`;
  return html`<a href="${href}" title="${what}">${String(n)}</a>`;
}

const query = (path: string, params: Record<string, string | null | undefined>): string => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, v);
  const text = search.toString();
  return text === '' ? path : `${path}?${text}`;
};

/** Where each cell's rows are listed: the day's events, refusals since its start, deliveries by state, payouts. */
function linksOf(ledger: Ledger) {
  const day = { since: ledger.from, until: ledger.to, partner: ledger.partner };
  return {
    events: (type?: string) => query('/ui/events', { ...day, type }),
    rejections: (reason: string) => query('/ui/rejections', { reason, since: ledger.from }),
    deliveries: (destination: string, state: string) =>
      query('/ui/deliveries', { destination, state, since: state === 'delivered' ? ledger.from : undefined }),
    payouts: (params: Record<string, string>) => query('/ui/payouts', { ...params, partner: ledger.partner }),
  };
}

function renderCallbacks(ledger: Ledger): Html {
  const links = linksOf(ledger);
  const c = ledger.callbacks;
  const rejected = Object.entries(c.rejected);
  return html`<section aria-labelledby="l-callbacks">
    <h2 id="l-callbacks">Callbacks</h2>
    <table class="ledger-table">
      <tbody>
        <tr>
          <th scope="row">Accepted</th>
          <td class="num">${count(c.accepted, links.events(), 'the day’s events')}</td>
        </tr>
        <tr>
          <th scope="row">Events from callbacks</th>
          <td class="num">${count(ledger.events.callback, links.events('payout'), 'the day’s payout events')}</td>
        </tr>
        <tr>
          <th scope="row">Duplicates</th>
          <td class="num">${count(c.duplicates, links.events(), 'the day’s events (each shows its duplicates)')}</td>
        </tr>
        <tr>
          <th scope="row">Conflicting copies</th>
          <td class="num">${count(c.conflictingCopies, links.events(), 'the day’s events (each shows its copies)')}</td>
        </tr>
        ${rejected.map(
          ([reason, n]) =>
            html`<tr>
              <th scope="row">Rejected: ${reason}</th>
              <td class="num">${count(n, links.rejections(reason), `refused callbacks (${reason})`)}</td>
            </tr>`,
        )}
        <tr>
          <th scope="row">Suppressed (counted, not kept)</th>
          <td class="num">${String(c.suppressed)}</td>
        </tr>
      </tbody>
    </table>
    <p class="hint">Accepted = events from callbacks + duplicates + conflicting copies.</p>
  </section>`;
}

function renderEvents(ledger: Ledger): Html {
  const links = linksOf(ledger);
  const e = ledger.events;
  return html`<section aria-labelledby="l-events">
    <h2 id="l-events">Events by origin</h2>
    <table class="ledger-table">
      <tbody>
        <tr>
          <th scope="row">From callbacks</th>
          <td class="num">${count(e.callback, links.events(), 'the day’s events')}</td>
        </tr>
        <tr>
          <th scope="row">From reconciliation</th>
          <td class="num">${count(e.reconciliation, links.events('payout'), 'the day’s payout events')}</td>
        </tr>
        <tr>
          <th scope="row">skyrelay’s own</th>
          <td class="num">${count(e.skyrelay, links.events(), 'the day’s events')}</td>
        </tr>
      </tbody>
    </table>
  </section>`;
}

const ROUTE_COLUMNS = [
  ['routed', 'Routed'],
  ['delivered', 'Delivered'],
  ['deliveredInGroup', 'In a group'],
  ['silenced', 'Silenced'],
  ['dead', 'Dead'],
  ['pending', 'Pending'],
  ['inflight', 'In flight'],
  ['replayed', 'Replayed'],
] as const;

function routeCell(ledger: Ledger, destination: string, r: LedgerRoutes, key: (typeof ROUTE_COLUMNS)[number][0]): Html {
  const links = linksOf(ledger);
  const state = { delivered: 'delivered', dead: 'dead', pending: 'pending', inflight: 'inflight' } as Record<
    string,
    string
  >;
  const href = state[key] ? links.deliveries(destination, state[key]) : links.events();
  return count(r[key], href, `${key} routes to ${destination}`);
}

function renderRoutes(ledger: Ledger): Html {
  const rows = Object.entries(ledger.routes);
  return html`<section aria-labelledby="l-routes">
    <h2 id="l-routes">Routes by destination</h2>
    <div class="scroll">
      <table class="ledger-routes">
        <thead>
          <tr>
            <th scope="col">Destination</th>
            ${ROUTE_COLUMNS.map(([, label]) => html`<th scope="col" class="num">${label}</th>`)}
            <th scope="col">Oldest pending</th>
          </tr>
        </thead>
        <tbody>
          ${
            rows.length === 0
              ? html`<tr>
                  <td colspan="10">No rule chose a destination for these events.</td>
                </tr>`
              : ''
          }
          ${rows.map(
            ([destination, r]) =>
              html`<tr data-destination="${destination}">
                <th scope="row">${destination}</th>
                ${ROUTE_COLUMNS.map(([key]) => html`<td class="num" data-key="${key}">${routeCell(ledger, destination, r, key)}</td>`)}
                <td>
                  ${r.oldestPendingSeconds === null ? html`<span class="none">—</span>` : showAge(r.oldestPendingSeconds * 1000)}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <p class="hint">
      Routed = delivered + in a group + silenced + dead + pending + in flight; replayed ones are counted in their end
      too.
    </p>
  </section>`;
}

function renderPayouts(ledger: Ledger): Html {
  const links = linksOf(ledger);
  const p = ledger.payouts;
  const open = p.stillOpen.under1h + p.stillOpen.under24h + p.stillOpen.older;
  const row = (label: string, n: number, href: string) =>
    html`<tr>
      <th scope="row">${label}</th>
      <td class="num">${count(n, href, label)}</td>
    </tr>`;
  return html`<section aria-labelledby="l-payouts">
    <h2 id="l-payouts">Payouts first seen this day</h2>
    <table class="ledger-table">
      <tbody>
        ${row('Opened', p.opened, links.payouts({}))} ${row('Paid', p.finalised.paid, links.payouts({ state: 'paid' }))}
        ${row('Cancelled', p.finalised.cancelled, links.payouts({ state: 'cancelled' }))}
        ${row('Failed', p.finalised.failed, links.payouts({ state: 'failed' }))}
        ${row('Still open', open, links.payouts({ state: 'open' }))}
        <tr>
          <th scope="row">… under 1 h / under 24 h / older</th>
          <td class="num">${`${p.stillOpen.under1h} / ${p.stillOpen.under24h} / ${p.stillOpen.older}`}</td>
        </tr>
        ${row('Stuck', p.stuck, links.payouts({ view: 'stuck' }))}
        ${Object.entries(p.anomalies).map(([kind, n]) => row(`Anomalies: ${kind}`, n, links.payouts({ anomalies: '1' })))}
        ${row('Confirmed by SkyPay', p.confirmed, links.payouts({ confirmation: 'confirmed' }))}
        ${row('Contradicted by SkyPay', p.contradicted, links.payouts({ confirmation: 'contradicted' }))}
      </tbody>
    </table>
  </section>`;
}

function unexplainedLink(u: Unexplained): Html {
  const eventId = u.kind === 'delivery' ? u.eventId : u.kind === 'event' || u.kind === 'groupMember' ? u.id : undefined;
  if (eventId === undefined) return html`${u.id}`;
  return html`<a href="/ui/events/${encodeURIComponent(eventId)}">${u.id}</a>`;
}

function renderUnexplained(ledger: Ledger): Html {
  return html`<section aria-labelledby="l-unexplained">
    <h2 id="l-unexplained">Unexplained</h2>
    ${
      ledger.unexplained.length === 0
        ? html`<p>None: every row fits its place.</p>`
        : html`<table class="ledger-unexplained">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Row</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              ${ledger.unexplained.map(
                (u) =>
                  html`<tr>
                    <td>${u.kind}</td>
                    <td>${unexplainedLink(u)}</td>
                    <td>${u.why}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
  </section>`;
}

/** The Ledger page: a day picker, the verdict, then each section with links from non-zero counts to their rows. */
export async function renderLedgerPage(
  ledgers: Pick<LedgerOperations, 'compute' | 'defaultDay'>,
  q: Query,
): Promise<Page> {
  const day = q['day']?.trim() || ledgers.defaultDay();
  const partner = q['partner']?.trim() || undefined;
  const form = html`<form method="get" action="/ui/ledger" class="filters" role="search" aria-label="Choose the day">
    <div class="field">
      <label for="f-day">Day (skypay.timezone)</label
      ><input id="f-day" name="day" type="date" value="${day}" required />
    </div>
    <div class="field">
      <label for="f-partner">Partner</label
      ><input id="f-partner" name="partner" value="${partner ?? ''}" placeholder="all" autocomplete="off" />
    </div>
    <div class="field actions"><button type="submit">Show</button></div>
  </form>`;
  let ledger: Ledger;
  try {
    ledger = await ledgers.compute({ day, partner });
  } catch (err) {
    if (!(err instanceof FilterError)) throw err;
    return {
      title: 'Ledger',
      body: html`<h1>Ledger</h1>
        ${form}${errorBox(err.message)}`,
      status: 400,
    };
  }
  const verdict = ledger.balanced
    ? html`<p class="verdict balanced" role="status">
        Balanced: every callback, event and route of ${ledger.day} is accounted for.
      </p>`
    : html`<p class="verdict unbalanced" role="alert">
        Not balanced: ${String(ledger.unexplained.length)} unexplained.
      </p>`;
  const body = html`<h1>Ledger ${ledger.day}</h1>
    ${form}
    <p class="hint">From ${ledger.from} to ${ledger.to} (${ledger.timezone}), ${ledger.partner ?? 'all partners'}.</p>
    ${verdict} ${renderCallbacks(ledger)} ${renderEvents(ledger)} ${renderRoutes(ledger)} ${renderPayouts(ledger)}
    ${renderUnexplained(ledger)}`;
  return { title: `Ledger ${ledger.day}`, body };
}

export const ledgerRoutes: PageRoutes = (router, { deps, page }) => {
  router.get('/ui/ledger', async (ctx) => {
    page(ctx, await renderLedgerPage(deps.operations.ledger, readQuery(ctx)));
  });
};
