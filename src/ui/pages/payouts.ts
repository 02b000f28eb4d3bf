import { FilterError, parseConfirmation, parseName, parseOlderThan, parsePayoutState } from '../../operations/filters';
import { PAYOUT_CONFIRMATIONS, PAYOUT_STATES } from '../../event';
import type { Filter, Queries } from '../../operations/queries';
import { describeStuckWaits, isStuckCheckOn, stuckCutoffs, type StuckWaits } from '../../payouts/stuck-after';
import type { PayoutFilter, PayoutView, StuckCutoff } from '../../operations/views';
import { html, type Html } from '../html';
import { renderOptions, showAge, showTime, statePill, type Page } from '../layout';
import { readListing, renderPager } from '../listing';
import { readQuery, type PageRoutes } from '../respond';
import { ID_PATTERN } from './events';
import { payoutHref } from './payout';

type Query = Record<string, string | undefined>;

/** The payouts page's views: every payout, the stuck ones (open longer than their wait), the anomalies. */
export type PayoutsView = 'all' | 'stuck' | 'anomalies';

export function payoutsViewOf(q: Query): PayoutsView {
  if (q['view'] === 'stuck') return 'stuck';
  return q['anomalies'] === '1' ? 'anomalies' : 'all';
}

/**
 * The payouts page's filters from its query string, parsed as the admin API and the CLI parse theirs (a bad one is
 * a FilterError naming it). `state=open` is any state that is not final; `view=stuck` is the open payouts in their
 * state for longer than its wait (the stuck check's, per state and partner), which the other filters narrow further.
 */
export function readPayoutFilter(q: Query, now: number, waits: StuckWaits): Filter<PayoutFilter> {
  const pick = (name: string): string | undefined => (q[name]?.trim() ? q[name]?.trim() : undefined);
  const cursor = pick('cursor');
  if (cursor !== undefined && !ID_PATTERN.test(cursor)) throw new FilterError('cursor: not a payout id');
  const state = pick('state');
  const partner = pick('partner');
  const olderThan = pick('olderThan');
  const anomalies = pick('anomalies');
  const confirmation = pick('confirmation');
  if (anomalies !== undefined && anomalies !== '1') throw new FilterError('anomalies: expected 1 (or nothing)');
  const stateSinceBeforeMs = olderThan === undefined ? undefined : parseOlderThan(olderThan, now);
  let open = state === 'open' ? true : undefined;
  let stuck: StuckCutoff[] | undefined;
  if (q['view'] === 'stuck') {
    if (!isStuckCheckOn(waits)) {
      throw new FilterError(
        'stuck: the stuck check is off (every payouts.stuckAfter wait is 0); filter by state and age',
      );
    }
    open = true;
    stuck = stuckCutoffs(waits, now);
  }
  return {
    state: state === undefined || state === 'open' ? undefined : parsePayoutState(state),
    open,
    stuck,
    partner: partner === undefined ? undefined : parseName(partner, 'partner'),
    stateSinceBeforeMs,
    anomalies: anomalies === '1' ? true : undefined,
    confirmation: confirmation === undefined ? undefined : parseConfirmation(confirmation),
    before: cursor,
  };
}

export async function renderPayouts(
  queries: Pick<Queries, 'listPayouts'>,
  q: Query,
  now: number,
  waits: StuckWaits,
): Promise<Page> {
  const view = payoutsViewOf(q);
  const { filter, problem, items, next } = await readListing(
    () => readPayoutFilter(q, now, waits),
    (f, limit) => queries.listPayouts(f, limit),
  );
  const title = view === 'stuck' ? 'Stuck payouts' : view === 'anomalies' ? 'Payouts with anomalies' : 'Payouts';
  const body = html`<h1>${title}</h1>
    ${renderIntro(view, waits)} ${renderPayoutFilters(q, view)} ${problem} ${renderPayoutTable(items, now)}
    ${renderPager('/ui/payouts', q, { ...q, cursor: undefined }, next)}`;
  return { title, body, status: filter ? 200 : 400 };
}

/** What the stuck and anomalies views list, and why a payout is on them. */
function renderIntro(view: PayoutsView, waits: StuckWaits): Html {
  if (view === 'stuck') {
    return html`<p>
      Open payouts (uploaded or amended) in their state for longer than its wait, with no final status since
      (payouts.stuckAfter: ${describeStuckWaits(waits)}).
    </p>`;
  }
  if (view === 'anomalies') {
    return html`<p>
      Payouts with a payout.anomaly: a status after a final one (after-final), a different final status (conflict), a
      status with its previous status's exact dealTime (same-time), or a final status SkyPay's status query contradicts
      (unconfirmed). A SkyPay error or a forged callback: look at each timeline.
    </p>`;
  }
  return html``;
}

function renderPayoutFilters(q: Query, view: PayoutsView): Html {
  return html`<form method="get" action="/ui/payouts" class="filters" role="search" aria-label="Filter payouts">
    ${view === 'stuck' ? html`<input type="hidden" name="view" value="stuck" />` : ''}
    <div class="field">
      <label for="f-state">State</label>
      <select id="f-state" name="state">
        <option value="">any</option>
        <option value="open" ${q['state'] === 'open' ? html`selected` : ''}>open (not final)</option>
        ${renderOptions(PAYOUT_STATES, q['state'])}
      </select>
    </div>
    <div class="field">
      <label for="f-partner">Partner</label>
      <input id="f-partner" name="partner" value="${q['partner'] ?? ''}" placeholder="AppName@skypay" />
    </div>
    <div class="field">
      <label for="f-confirmation">Confirmation</label>
      <select id="f-confirmation" name="confirmation">
        <option value="">any</option>
        ${renderOptions(PAYOUT_CONFIRMATIONS, q['confirmation'])}
      </select>
    </div>
    <div class="field">
      <label for="f-older">In its state for longer than</label>
      <input id="f-older" name="olderThan" value="${q['olderThan'] ?? ''}" placeholder="6h" autocomplete="off" />
    </div>
    <div class="field check">
      <input
        id="f-anomalies"
        name="anomalies"
        type="checkbox"
        value="1"
        ${q['anomalies'] === '1' ? html`checked` : ''}
      />
      <label for="f-anomalies">Anomalies only</label>
    </div>
    <div class="field actions">
      <button type="submit">Filter</button>
      <a href="/ui/payouts${view === 'stuck' ? '?view=stuck' : ''}">Clear</a>
    </div>
  </form>`;
}

function renderPayoutTable(items: readonly PayoutView[], now: number): Html {
  return html`<div class="scroll">
    <table>
      <thead>
        <tr>
          <th scope="col">Control number</th>
          <th scope="col">Partner</th>
          <th scope="col">State</th>
          <th scope="col">In state since</th>
          <th scope="col">Confirmation</th>
          <th scope="col">First seen</th>
          <th scope="col">Last seen</th>
          <th scope="col">Anomalies</th>
        </tr>
      </thead>
      <tbody>
        ${
          items.length === 0
            ? html`<tr>
                <td colspan="8">No payouts match.</td>
              </tr>`
            : ''
        }
        ${items.map((p) => renderPayoutRow(p, now))}
      </tbody>
    </table>
  </div>`;
}

function renderPayoutRow(p: PayoutView, now: number): Html {
  return html`<tr class="payout">
    <th scope="row"><a href="${payoutHref(p)}">${p.controlNumber}</a></th>
    <td>${p.partner}</td>
    <td>
      ${statePill(p.state)} <small>${p.final ? 'final' : 'open'}</small>
      ${p.stuckState ? html`<br /><small class="bad">reported stuck (${p.stuckState})</small>` : ''}
    </td>
    <td>${showTime(p.stateSince)}<br /><small>${showAge(now - Date.parse(p.stateSince))} ago</small></td>
    <td data-testid="confirmation">${statePill(p.confirmation)}</td>
    <td>${showTime(p.firstSeenAt)}</td>
    <td>${showTime(p.lastSeenAt)}</td>
    <td>${p.anomalies > 0 ? html`<strong class="bad">${p.anomalies}</strong>` : 0}</td>
  </tr>`;
}

export const payoutsRoutes: PageRoutes = (router, { deps, now, page }) => {
  router.get('/ui/payouts', async (ctx) => {
    page(ctx, await renderPayouts(deps.operations.queries, readQuery(ctx), now(), deps.stuckWaits));
  });
};
