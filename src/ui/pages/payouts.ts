import { FilterError, parseConfirmation, parseName, parseOlderThan, parsePayoutState } from '../../admin/filters';
import { PAYOUT_CONFIRMATIONS, PAYOUT_STATES, type PayoutEvent } from '../../event';
import { describeConfirmation } from '../../payouts/lifecycle';
import type { PayoutStore } from '../../store/store';
import { describeStuckWaits, isStuckCheckOn, stuckCutoffs, type StuckWaits } from '../../payouts/stuck-after';
import type { PayoutDetail, PayoutView } from '../../store/types';
import type { PayoutFilter, StuckCutoff } from '../../payouts/types';
import { html, query, type Html } from '../html';
import { errorBox, orDash, showAge, showTime, statePill, type Page } from '../layout';
import { ID_PATTERN } from './events';

const PAGE_SIZE = 50;
type Query = Record<string, string | undefined>;

/** The kinds of transition that make a payout an anomaly (a status after a final one): shown in red. */
const ANOMALY_KINDS = new Set(['after-final', 'conflict']);

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
export function readPayoutFilter(q: Query, now: number, waits: StuckWaits): PayoutFilter {
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
    limit: PAGE_SIZE + 1,
  };
}

/** The payout page of one payout: the control number's page, narrowed to its partner. */
export function payoutHref(p: Pick<PayoutView, 'controlNumber' | 'partner'>): string {
  return `/ui/payouts/${encodeURIComponent(p.controlNumber)}${query({ partner: p.partner })}`;
}

export async function renderPayouts(store: PayoutStore, q: Query, now: number, waits: StuckWaits): Promise<Page> {
  const view = payoutsViewOf(q);
  let filter: PayoutFilter | undefined;
  let problem: Html = html``;
  try {
    filter = readPayoutFilter(q, now, waits);
  } catch (err) {
    if (!(err instanceof FilterError)) throw err;
    problem = errorBox(err.message);
  }
  const rows = filter ? await store.listPayouts(filter) : [];
  const items = rows.slice(0, PAGE_SIZE);
  const last = items[items.length - 1];
  const keep = { ...q, cursor: undefined };
  const next = rows.length > PAGE_SIZE && last ? `/ui/payouts${query({ ...keep, cursor: last.id })}` : undefined;
  const title = view === 'stuck' ? 'Stuck payouts' : view === 'anomalies' ? 'Payouts with anomalies' : 'Payouts';
  const intro =
    view === 'stuck'
      ? html`<p>
          Open payouts (uploaded or amended) in their state for longer than its wait, with no final status since
          (payouts.stuckAfter: ${describeStuckWaits(waits)}).
        </p>`
      : view === 'anomalies'
        ? html`<p>
            Payouts with a payout.anomaly: a status after a final one (after-final), a different final status
            (conflict), a status with its previous status's exact dealTime (same-time), or a final status SkyPay's
            status query contradicts (unconfirmed). A SkyPay error or a forged callback: look at each timeline.
          </p>`
        : html``;
  const body = html`<h1>${title}</h1>
    ${intro}
    <form method="get" action="/ui/payouts" class="filters" role="search" aria-label="Filter payouts">
      ${view === 'stuck' ? html`<input type="hidden" name="view" value="stuck" />` : ''}
      <div class="field">
        <label for="f-state">State</label>
        <select id="f-state" name="state">
          <option value="">any</option>
          <option value="open" ${q['state'] === 'open' ? html`selected` : ''}>open (not final)</option>
          ${PAYOUT_STATES.map((s) => html`<option value="${s}" ${q['state'] === s ? html`selected` : ''}>${s}</option>`)}
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
          ${PAYOUT_CONFIRMATIONS.map(
            (c) => html`<option value="${c}" ${q['confirmation'] === c ? html`selected` : ''}>${c}</option>`,
          )}
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
    </form>
    ${problem}
    <div class="scroll">
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
          ${items.map(
            (p) =>
              html`<tr class="payout">
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
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <nav class="pager" aria-label="Pages">
      ${q['cursor'] ? html`<a href="/ui/payouts${query(keep)}">Newest</a>` : ''}
      ${next ? html`<a href="${next}">Older</a>` : ''}
    </nav>`;
  return { title, body, status: filter ? 200 : 400 };
}

/** One payout's timeline row: a status it received, or a conflicting copy of one. */
interface TimelineRow {
  dealTime: string;
  receivedAt: string;
  status: string;
  transition: Html;
  duplicates: number | null;
  eventId: string;
  anomaly: boolean;
}

/** Each status by dealTime (received time breaking ties), each conflicting copy right after the event it copies. */
export function buildTimeline(detail: PayoutDetail): TimelineRow[] {
  const events = detail.events
    .map((e) => ({ detail: e, event: e.event as PayoutEvent }))
    .sort((a, b) =>
      a.event.dealTime === b.event.dealTime
        ? a.event.receivedAt.localeCompare(b.event.receivedAt)
        : a.event.dealTime < b.event.dealTime
          ? -1
          : 1,
    );
  const rows: TimelineRow[] = [];
  for (const { detail: d, event } of events) {
    const t = event.transition;
    rows.push({
      dealTime: event.dealTime,
      receivedAt: event.receivedAt,
      status: event.status,
      transition: t
        ? html`<strong>${t.kind}</strong> ${t.from ?? '—'} → ${t.to}`
        : html`<span class="none">stored before payouts were kept</span>`,
      duplicates: d.duplicates,
      eventId: event.id,
      anomaly: t !== undefined && ANOMALY_KINDS.has(t.kind),
    });
    for (const c of d.conflicts) {
      if (c.copy.type !== 'payout') continue;
      const repeats = c.repeats ? html` ×${c.repeats + 1}` : '';
      rows.push({
        dealTime: c.copy.dealTime,
        receivedAt: c.receivedAt,
        status: c.copy.status,
        transition: html`conflicting copy${repeats}: differs in ${c.differs.join(', ')}`,
        duplicates: null,
        eventId: event.id,
        anomaly: true,
      });
    }
  }
  return rows;
}

function renderOnePayout(detail: PayoutDetail, now: number): Html {
  const p = detail.payout;
  const deliveries = detail.events.flatMap((e) => e.deliveries.map((d) => ({ ...d, event: e.event })));
  const silenced = detail.events.flatMap((e) => e.silenced.map((s) => ({ ...s, eventId: e.event.id })));
  // Grouped destinations: the event went out as a member of one group message.
  const grouped = detail.events.flatMap((e) => e.groups.map((g) => ({ ...g, eventId: e.event.id })));
  const key = `${p.partner}-${p.controlNumber}`.replace(/[^A-Za-z0-9_-]/g, '_');
  return html`<section class="payout-detail" aria-labelledby="h-${key}">
    <h2 id="h-${key}">${p.controlNumber} of ${p.partner} ${statePill(p.state)}</h2>
    <dl class="fields">
      <dt>State</dt>
      <dd data-testid="payout-state">${p.state} (${p.final ? 'final' : 'open'})</dd>
      <dt>In state since</dt>
      <dd>${showTime(p.stateSince)} (${showAge(now - Date.parse(p.stateSince))})</dd>
      <dt>First seen</dt>
      <dd>${showTime(p.firstSeenAt)}</dd>
      <dt>Last seen</dt>
      <dd>${showTime(p.lastSeenAt)}</dd>
      <dt>Latest dealTime</dt>
      <dd>${p.lastDealTime} (SkyPay time)</dd>
      <dt>Confirmation</dt>
      <dd data-testid="payout-confirmation">
        ${statePill(p.confirmation)} <small>${describeConfirmation(p.confirmation)}</small>
      </dd>
      <dt>Anomalies</dt>
      <dd>${p.anomalies > 0 ? html`<strong class="bad">${p.anomalies}</strong>` : 0}</dd>
      <dt>Reported stuck</dt>
      <dd>${orDash(p.stuckState)}</dd>
    </dl>
    <h3>Timeline</h3>
    <div class="scroll">
      <table class="timeline">
        <caption class="visually-hidden">
          Statuses of ${p.controlNumber}, by dealTime
        </caption>
        <thead>
          <tr>
            <th scope="col">Deal time (SkyPay)</th>
            <th scope="col">Received</th>
            <th scope="col">Status</th>
            <th scope="col">Transition</th>
            <th scope="col">Duplicates</th>
            <th scope="col">Event</th>
          </tr>
        </thead>
        <tbody>
          ${buildTimeline(detail).map(
            (r) =>
              html`<tr class="${r.anomaly ? 'status anomaly' : 'status'}">
                <td>${r.dealTime}</td>
                <td>${showTime(r.receivedAt)}</td>
                <td>${r.status}</td>
                <td class="${r.anomaly ? 'bad' : ''}">${r.transition}</td>
                <td>${r.duplicates === null ? orDash(null) : r.duplicates}</td>
                <td><a href="/ui/events/${encodeURIComponent(r.eventId)}">${r.eventId}</a></td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <h3>Reconciliation with SkyPay</h3>
    ${
      detail.reconciliations.length === 0
        ? html`<p>Not asked about through SkyPay's status query yet.</p>`
        : html`<div class="scroll">
            <table class="reconciliations">
              <thead>
                <tr>
                  <th scope="col">Last asked</th>
                  <th scope="col">Times</th>
                  <th scope="col">SkyPay says</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                ${detail.reconciliations.map(
                  (r) =>
                    html`<tr>
                      <td>${showTime(r.lastCheckedAt)}</td>
                      <td>${r.checks}</td>
                      <td>${r.status === null ? orDash(null) : `${r.status} ${r.statusDesc}`}</td>
                      <td class="${r.outcome === 'contradiction' || r.outcome === 'out-of-window' ? 'bad' : ''}">
                        ${r.outcome}
                      </td>
                      <td>
                        ${r.detail}${
                          r.eventId
                            ? html` (<a href="/ui/events/${encodeURIComponent(r.eventId)}">${r.eventId}</a>)`
                            : ''
                        }
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
    <h3>Deliveries</h3>
    ${deliveries.length + silenced.length + grouped.length === 0 ? html`<p>No rule chose a destination for these events.</p>` : ''}
    ${
      deliveries.length + silenced.length + grouped.length === 0
        ? ''
        : html`<div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Status</th>
                  <th scope="col">Destination</th>
                  <th scope="col">State</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Rules</th>
                </tr>
              </thead>
              <tbody>
                ${deliveries.map(
                  (d) =>
                    html`<tr>
                      <td>
                        <a href="/ui/events/${encodeURIComponent(d.eventId)}#delivery-${d.id}"
                          >${d.event.source === 'skypay' && d.event.type === 'payout' ? d.event.status : d.eventId}</a
                        >
                      </td>
                      <td>${d.destination}</td>
                      <td>${statePill(d.state)}</td>
                      <td>${d.attempts}</td>
                      <td>${d.rules.join(', ')}</td>
                    </tr>`,
                )}
                ${grouped.map(
                  (g) =>
                    html`<tr>
                      <td><a href="/ui/events/${encodeURIComponent(g.eventId)}">${g.eventId}</a></td>
                      <td>${g.destination}</td>
                      <td>
                        ${statePill(g.state)} in a group
                        message${
                          g.messageEventId
                            ? html` (<a href="/ui/events/${encodeURIComponent(g.messageEventId)}">${g.messageEventId}</a
                                >)`
                            : ''
                        }
                      </td>
                      <td>${orDash(null)}</td>
                      <td>${g.rules.join(', ')}</td>
                    </tr>`,
                )}
                ${silenced.map(
                  (s) =>
                    html`<tr>
                      <td><a href="/ui/events/${encodeURIComponent(s.eventId)}">${s.eventId}</a></td>
                      <td>${s.destination}</td>
                      <td>
                        silenced by <a href="/ui/silences#silence-${encodeURIComponent(s.silenceId)}">${s.silenceId}</a>
                      </td>
                      <td>0</td>
                      <td>${s.rules.join(', ')}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
  </section>`;
}

/** `/ui/payouts/:controlNumber[?partner=]`: every payout of that control number (one per partner), or one. */
export async function renderPayout(store: PayoutStore, controlNumber: string, q: Query, now: number): Promise<Page> {
  const cn = parseName(controlNumber, 'control number');
  const partnerText = q['partner']?.trim();
  const partner = partnerText ? parseName(partnerText, 'partner') : undefined;
  const found = await store.getPayouts(cn, partner);
  if (found.length === 0) {
    return {
      title: 'No such payout',
      status: 404,
      body: html`<p><a href="/ui/payouts">← Payouts</a></p>
        ${errorBox(`No payout with control number ${cn}${partner ? ` of ${partner}` : ''}.`)}`,
    };
  }
  const body = html`<p><a href="/ui/payouts">← Payouts</a></p>
    <h1>Payout ${cn}</h1>
    ${found.length > 1 ? html`<p>This control number names ${found.length} payouts, one per partner.</p>` : ''}
    ${found.map((d) => renderOnePayout(d, now))}`;
  return { title: `Payout ${cn}`, body };
}
