import { silenceState } from '../../alerts/silence-match';
import { isStuckCheckOn, stuckCutoffs, type StuckWaits } from '../../payouts/stuck-after';
import type { InspectStore, DashboardStore, PayoutStore, SilenceStore } from '../../store/store';
import { renderChart, toMinuteSeries } from '../chart';
import { html } from '../html';
import { showAge, showTime, type Page } from '../layout';

export interface Readiness {
  ready: boolean;
  /** Why not, in an operator's words (starting, draining, the database's failure). */
  reason?: string | undefined;
}

export interface OverviewDeps {
  store: InspectStore & DashboardStore & PayoutStore & SilenceStore;
  destinations: readonly string[];
  /** The stuck check's waits per state and partner. */
  stuckWaits: StuckWaits;
  readiness: () => Readiness;
  now: () => number;
}

export async function renderOverview(deps: OverviewDeps): Promise<Page> {
  const now = deps.now();
  const stuckOn = isStuckCheckOn(deps.stuckWaits);
  const [minutes, queue, [lastEvent], [lastRejection], open, stuck, anomalies, current] = await Promise.all([
    deps.store.readCallbackMinutes(now - 60 * 60_000),
    deps.store.readQueueState(),
    deps.store.listEvents({ type: 'payout', limit: 1 }),
    deps.store.listRejections({ limit: 1 }),
    deps.store.countPayouts({ open: true }),
    stuckOn ? deps.store.countPayouts({ open: true, stuck: stuckCutoffs(deps.stuckWaits, now) }) : 0,
    deps.store.countPayouts({ anomalies: true }),
    deps.store.listCurrentSilences(now),
  ]);
  const activeSilences = current.filter((s) => silenceState(s, now) === 'active').length;
  const names = new Set([...deps.destinations, ...queue.byDestination.map((r) => r.destination)]);
  const count = (destination: string, states: string[]): number =>
    queue.byDestination
      .filter((r) => r.destination === destination && states.includes(r.state))
      .reduce((n, r) => n + r.count, 0);
  const readiness = deps.readiness();
  const oldest = queue.oldestUnfinishedMs;
  const body = html`<h1>Overview</h1>
    <section aria-labelledby="h-status" class="cards">
      <h2 id="h-status" class="visually-hidden">Status</h2>
      <div class="card">
        <h3>Readiness</h3>
        <p class="${readiness.ready ? 'ok' : 'bad'}" data-testid="readiness">
          ${readiness.ready ? 'Ready' : `Not ready: ${readiness.reason ?? 'unknown'}`}
        </p>
      </div>
      <div class="card">
        <h3>Last callback</h3>
        <p>Accepted: ${showTime(lastEvent?.receivedAt)}</p>
        <p>Refused: ${showTime(lastRejection?.receivedAt)}</p>
      </div>
      <div class="card">
        <h3>Payouts</h3>
        <p>Open: <a href="/ui/payouts?state=open" data-testid="open-payouts">${open}</a></p>
        <p>
          Stuck:
          ${
            stuckOn
              ? html`<a href="/ui/payouts?view=stuck" data-testid="stuck-payouts" class="${stuck > 0 ? 'bad' : ''}"
                  >${stuck}</a
                >`
              : html`<span class="none">check off</span>`
          }
        </p>
        <p>
          With anomalies:
          <a href="/ui/payouts?anomalies=1" data-testid="anomalies" class="${anomalies > 0 ? 'bad' : ''}"
            >${anomalies}</a
          >
        </p>
      </div>
      <div class="card">
        <h3>Silences</h3>
        <p>Active: <a href="/ui/silences" data-testid="active-silences">${activeSilences}</a></p>
      </div>
      <div class="card">
        <h3>Oldest pending delivery</h3>
        <p data-testid="oldest-pending">${oldest === undefined ? 'none waiting' : `${showAge(now - oldest)} old`}</p>
      </div>
    </section>
    <section aria-labelledby="h-chart">
      <h2 id="h-chart">Callbacks per minute, last hour</h2>
      ${renderChart(toMinuteSeries(minutes, now))}
    </section>
    <section aria-labelledby="h-queue">
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
    </section>
    <p class="updated">Updated ${showTime(now)}</p>`;
  return { title: 'Overview', body, live: true };
}
