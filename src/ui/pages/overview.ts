import type { DashboardOperations, Overview } from '../../operations/dashboard';
import type { QueueState } from '../../operations/views';
import { renderChart, toMinuteSeries } from '../chart';
import { html, type Html } from '../html';
import { showAge, showTime, type Page } from '../layout';
import type { PageRoutes, Readiness } from '../respond';

export interface OverviewDeps {
  dashboard: Pick<DashboardOperations, 'readOverview'>;
  destinations: readonly string[];
  readiness: () => Readiness;
  now: () => number;
}

export async function renderOverview(deps: OverviewDeps): Promise<Page> {
  const now = deps.now();
  const o = await deps.dashboard.readOverview(now);
  const body = html`<h1>Overview</h1>
    ${renderStatusCards(o, deps.readiness(), now)}
    <section aria-labelledby="h-chart">
      <h2 id="h-chart">Callbacks per minute, last hour</h2>
      ${renderChart(toMinuteSeries(o.minutes, now))}
    </section>
    ${renderQueue(o.queue, deps.destinations)}
    <p class="updated">Updated ${showTime(now)}</p>`;
  return { title: 'Overview', body, live: true };
}

/** The cards an operator reads first: ready or not, callbacks coming in, payouts needing a look, silences, backlog. */
function renderStatusCards(o: Overview, readiness: Readiness, now: number): Html {
  const oldest = o.queue.oldestUnfinishedMs;
  return html`<section aria-labelledby="h-status" class="cards">
    <h2 id="h-status" class="visually-hidden">Status</h2>
    <div class="card">
      <h3>Readiness</h3>
      <p class="${readiness.ready ? 'ok' : 'bad'}" data-testid="readiness">
        ${readiness.ready ? 'Ready' : `Not ready: ${readiness.reason ?? 'unknown'}`}
      </p>
    </div>
    <div class="card">
      <h3>Last callback</h3>
      <p>Accepted: ${showTime(o.lastEventAt)}</p>
      <p>Refused: ${showTime(o.lastRejectionAt)}</p>
    </div>
    ${renderPayoutsCard(o)}
    <div class="card">
      <h3>Silences</h3>
      <p>Active: <a href="/ui/silences" data-testid="active-silences">${o.activeSilences}</a></p>
    </div>
    <div class="card">
      <h3>Oldest pending delivery</h3>
      <p data-testid="oldest-pending">${oldest === undefined ? 'none waiting' : `${showAge(now - oldest)} old`}</p>
    </div>
  </section>`;
}

function renderPayoutsCard(o: Overview): Html {
  return html`<div class="card">
    <h3>Payouts</h3>
    <p>Open: <a href="/ui/payouts?state=open" data-testid="open-payouts">${o.openPayouts}</a></p>
    <p>
      Stuck:
      ${
        o.stuckPayouts !== undefined
          ? html`<a href="/ui/payouts?view=stuck" data-testid="stuck-payouts" class="${o.stuckPayouts > 0 ? 'bad' : ''}"
              >${o.stuckPayouts}</a
            >`
          : html`<span class="none">check off</span>`
      }
    </p>
    <p>
      With anomalies:
      <a href="/ui/payouts?anomalies=1" data-testid="anomalies" class="${o.payoutsWithAnomalies > 0 ? 'bad' : ''}"
        >${o.payoutsWithAnomalies}</a
      >
    </p>
  </div>`;
}

/** Pending and dead deliveries per destination: every configured one, and any the queue still holds for. */
function renderQueue(queue: QueueState, destinations: readonly string[]): Html {
  const names = new Set([...destinations, ...queue.byDestination.map((r) => r.destination)]);
  const count = (destination: string, states: string[]): number =>
    queue.byDestination
      .filter((r) => r.destination === destination && states.includes(r.state))
      .reduce((n, r) => n + r.count, 0);
  return html`<section aria-labelledby="h-queue">
    <h2 id="h-queue">Deliveries waiting and dead</h2>
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Destination</th>
            <th scope="col">Pending</th>
            <th scope="col">Dead</th>
          </tr>
        </thead>
        <tbody>
          ${[...names].sort().map(
            (d) =>
              html`<tr>
                <th scope="row"><a href="/ui/deliveries?destination=${encodeURIComponent(d)}">${d}</a></th>
                <td>${count(d, ['pending', 'inflight'])}</td>
                <td>
                  ${
                    count(d, ['dead']) > 0
                      ? html`<a href="/ui/deliveries?state=dead&amp;destination=${encodeURIComponent(d)}"
                          >${count(d, ['dead'])}</a
                        >`
                      : 0
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </section>`;
}

export const overviewRoutes: PageRoutes = (router, { deps, now, destinationNames, page }) => {
  router.get('/ui/', (ctx) => {
    ctx.status = 301;
    ctx.redirect('/ui');
  });
  router.get('/ui', async (ctx) => {
    const { readiness } = deps;
    page(
      ctx,
      await renderOverview({ dashboard: deps.operations.dashboard, destinations: destinationNames, readiness, now }),
    );
  });
};
