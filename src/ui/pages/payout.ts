import type { PayoutEvent, RelayEvent } from '../../event';
import { describeAttemptCount } from '../../operations/attempts';
import { parseName } from '../../operations/filters';
import type { Queries } from '../../operations/queries';
import type {
  EventDetail,
  GroupMembership,
  PayoutDetail,
  PayoutView,
  ReconciliationView,
  SilencedRoute,
} from '../../operations/views';
import { describeConfirmation } from '../../payouts/lifecycle';
import { html, query, type Html } from '../html';
import { orDash, showAge, showTime, statePill, type Page } from '../layout';
import { readQuery, type PageRoutes } from '../respond';

type Query = Record<string, string | undefined>;

/** The kinds of transition that make a payout an anomaly (a status after a final one): shown in red. */
const ANOMALY_KINDS = new Set(['after-final', 'conflict']);

/** The payout page of one payout: the control number's page, narrowed to its partner. */
export function payoutHref(p: Pick<PayoutView, 'controlNumber' | 'partner'>): string {
  return `/ui/payouts/${encodeURIComponent(p.controlNumber)}${query({ partner: p.partner })}`;
}

/** `/ui/payouts/:controlNumber[?partner=]`: every payout of that control number (one per partner), or one. */
export async function renderPayout(
  queries: Pick<Queries, 'getPayouts'>,
  controlNumber: string,
  q: Query,
  now: number,
): Promise<Page> {
  const cn = parseName(controlNumber, 'control number');
  const partnerText = q['partner']?.trim();
  const partner = partnerText ? parseName(partnerText, 'partner') : undefined;
  const found = await queries.getPayouts(cn, partner);
  const body = html`<p><a href="/ui/payouts">← Payouts</a></p>
    <h1>Payout ${cn}</h1>
    ${found.length > 1 ? html`<p>This control number names ${found.length} payouts, one per partner.</p>` : ''}
    ${found.map((d) => renderOnePayout(d, now))}`;
  return { title: `Payout ${cn}`, body };
}

function renderOnePayout(detail: PayoutDetail, now: number): Html {
  const p = detail.payout;
  const key = `${p.partner}-${p.controlNumber}`.replace(/[^A-Za-z0-9_-]/g, '_');
  return html`<section class="payout-detail" aria-labelledby="h-${key}">
    <h2 id="h-${key}">${p.controlNumber} of ${p.partner} ${statePill(p.state)}</h2>
    ${renderPayoutFields(p, now)}
    <h3>Timeline</h3>
    ${renderTimeline(detail)}
    <h3>Reconciliation with SkyPay</h3>
    ${renderReconciliations(detail.reconciliations)}
    <h3>Deliveries</h3>
    ${renderPayoutDeliveries(detail.events)}
  </section>`;
}

function renderPayoutFields(p: PayoutView, now: number): Html {
  return html`<dl class="fields">
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
  </dl>`;
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

function renderTimeline(detail: PayoutDetail): Html {
  return html`<div class="scroll">
    <table class="timeline">
      <caption class="visually-hidden">
        Statuses of ${detail.payout.controlNumber}, by dealTime
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
  </div>`;
}

/** What SkyPay's status query said of the payout, each answer once with how often it was given. */
function renderReconciliations(reconciliations: readonly ReconciliationView[]): Html {
  if (reconciliations.length === 0) return html`<p>Not asked about through SkyPay's status query yet.</p>`;
  return html`<div class="scroll">
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
        ${reconciliations.map((r) => renderReconciliation(r))}
      </tbody>
    </table>
  </div>`;
}

function renderReconciliation(r: ReconciliationView): Html {
  return html`<tr>
    <td>${showTime(r.lastCheckedAt)}</td>
    <td>${r.checks}</td>
    <td>${r.status === null ? orDash(null) : `${r.status} ${r.statusDesc}`}</td>
    <td class="${r.outcome === 'contradiction' || r.outcome === 'out-of-window' ? 'bad' : ''}">${r.outcome}</td>
    <td>
      ${r.detail}${r.eventId ? html` (<a href="/ui/events/${encodeURIComponent(r.eventId)}">${r.eventId}</a>)` : ''}
    </td>
  </tr>`;
}

/** The Status column of a payout's deliveries: the status of the event each went out for. */
function statusOf(event: RelayEvent): string {
  return event.source === 'skypay' && event.type === 'payout' ? event.status : event.id;
}

/** Every destination the payout's events went to: delivered to, carried in a group message, or silenced. */
function renderPayoutDeliveries(events: readonly EventDetail[]): Html {
  const deliveries = events.flatMap((e) => e.deliveries.map((d) => ({ ...d, event: e.event })));
  const silenced = events.flatMap((e) => e.silenced.map((s) => ({ ...s, eventId: e.event.id, event: e.event })));
  // Grouped destinations: the event went out as a member of one group message.
  const grouped = events.flatMap((e) => e.groups.map((g) => ({ ...g, eventId: e.event.id, event: e.event })));
  if (deliveries.length + silenced.length + grouped.length === 0) {
    return html`<p>No rule chose a destination for these events.</p>`;
  }
  return html`<div class="scroll">
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
        ${deliveries.map(renderDeliveryRow)} ${grouped.map(renderGroupedRow)} ${silenced.map(renderSilencedRow)}
      </tbody>
    </table>
  </div>`;
}

/** A destination one of the payout's events went to, with that event (for the Status column). */
type Routed<T> = T & { eventId: string; event: RelayEvent };

function renderDeliveryRow(d: Routed<EventDetail['deliveries'][number]>): Html {
  return html`<tr>
    <td>
      <a href="/ui/events/${encodeURIComponent(d.eventId)}#delivery-${d.id}">${statusOf(d.event)}</a>
    </td>
    <td>${d.destination}</td>
    <td>${statePill(d.state)}</td>
    <td>${describeAttemptCount(d)}</td>
    <td>${d.rules.join(', ')}</td>
  </tr>`;
}

function renderGroupedRow(g: Routed<GroupMembership>): Html {
  return html`<tr>
    <td><a href="/ui/events/${encodeURIComponent(g.eventId)}">${statusOf(g.event)}</a></td>
    <td>${g.destination}</td>
    <td>
      ${statePill(g.state)} in a group
      message${
        g.messageEventId
          ? html` (<a href="/ui/events/${encodeURIComponent(g.messageEventId)}">${g.messageEventId}</a>)`
          : ''
      }
    </td>
    <td>${orDash(null)}</td>
    <td>${g.rules.join(', ')}</td>
  </tr>`;
}

function renderSilencedRow(s: Routed<SilencedRoute>): Html {
  return html`<tr>
    <td><a href="/ui/events/${encodeURIComponent(s.eventId)}">${statusOf(s.event)}</a></td>
    <td>${s.destination}</td>
    <td>silenced by <a href="/ui/silences#silence-${encodeURIComponent(s.silenceId)}">${s.silenceId}</a></td>
    <td>0</td>
    <td>${s.rules.join(', ')}</td>
  </tr>`;
}

export const payoutRoutes: PageRoutes = (router, { deps, now, page }) => {
  router.get('/ui/payouts/:controlNumber', async (ctx) => {
    page(ctx, await renderPayout(deps.operations.queries, ctx.params['controlNumber'] ?? '', readQuery(ctx), now()));
  });
};
