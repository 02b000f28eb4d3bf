import { listAllFields } from '../../destinations/present';
import { describeAttemptCount, numberAttempts } from '../../operations/attempts';
import { NotFoundError } from '../../operations/errors';
import type { EventDetail, GroupMembership, SilencedRoute } from '../../operations/views';
import type { RelayEvent } from '../../event';
import { html, type Html } from '../html';
import { payoutHref } from './payout';
import { csrfField, orDash, replayNotice, showTime, statePill, type Page } from '../layout';
import { readQuery, redirectAfterReplay, type PageRoutes } from '../respond';
import { ID_PATTERN } from './events';

const REPLAYABLE = new Set(['dead', 'delivered']);

export function renderEvent(
  detail: EventDetail,
  q: Record<string, string | undefined>,
  csrf: string,
  timezone: string,
): Page {
  const { event } = detail;
  const here = `/ui/events/${encodeURIComponent(event.id)}`;
  const title = titleOf(event);
  const body = html`<p><a href="/ui/events">← Events</a></p>
    <h1>Event ${title}</h1>
    ${renderPayoutLine(event)} ${replayNotice(q)}
    <form method="post" action="${here}/replay" class="inline">
      ${csrfField(csrf)}
      <button type="submit">Replay event</button>
      <small>Sends it again to every destination the rules route it to now.</small>
    </form>
    <section aria-labelledby="h-fields">
      <h2 id="h-fields">Callback fields</h2>
      <dl class="fields">
        ${listAllFields(event, timezone).map(
          ([label, value]) =>
            html`<dt>${label}</dt>
              <dd>${value}</dd>`,
        )}
      </dl>
    </section>
    ${renderCopies(detail)} ${renderRoutes(detail, csrf, here)}`;
  return { title: `Event ${title}`, body };
}

function titleOf(event: RelayEvent): string {
  if (event.source === 'skyrelay') return `skyrelay ${event.type}`;
  return event.type === 'finance'
    ? `finance ${event.signType} ${event.referenceNumber}`
    : `${event.controlNumber} ${event.status}`;
}

/** A payout status links to its payout and says what it did there (first, forward, after a final one...). */
function renderPayoutLine(event: RelayEvent): Html | '' {
  if (event.source !== 'skypay' || event.type !== 'payout') return '';
  return html`<p>
    Payout
    <a href="${payoutHref(event)}" data-testid="payout-link">${event.controlNumber} of ${event.partner}</a>${
      event.transition
        ? html`: this status was <strong>${event.transition.kind}</strong> (${event.transition.from ?? '—'} →
            ${event.transition.to})`
        : ''
    }
  </p>`;
}

/** Later copies of the callback: the same ones counted, the conflicting ones shown. */
function renderCopies(detail: EventDetail): Html {
  return html`<section aria-labelledby="h-copies">
    <h2 id="h-copies">Copies</h2>
    <p>
      ${detail.duplicates} duplicate
      callbacks${detail.lastSeenAt ? html`, the last at ${showTime(detail.lastSeenAt)}` : ''}.
    </p>
    ${
      detail.conflicts.length === 0
        ? html`<p>No conflicting copies.</p>`
        : html`<ul>
            ${detail.conflicts.map(
              (c) =>
                html`<li>
                  ${showTime(c.receivedAt)}: differs in ${c.differs.join(', ')}
                  ${c.repeats > 0 ? html`(came ${c.repeats + 1} times)` : ''}
                  <details>
                    <summary>Copy ${c.id}</summary>
                    <pre>${JSON.stringify(c.copy, null, 2)}</pre>
                  </details>
                </li>`,
            )}
          </ul>`
    }
  </section>`;
}

/** Where the event went: each destination silenced, grouped or delivered to. */
function renderRoutes(detail: EventDetail, csrf: string, here: string): Html {
  return html`<section aria-labelledby="h-deliveries">
    <h2 id="h-deliveries">Deliveries</h2>
    ${
      detail.deliveries.length + detail.groups.length + detail.silenced.length === 0
        ? html`<p>No destination was routed this event.</p>`
        : ''
    }
    ${detail.silenced.map(renderSilencedRoute)} ${detail.groups.map(renderGroupRoute)}
    ${detail.deliveries.map((d) => renderDelivery(d, csrf, here))}
  </section>`;
}

function renderSilencedRoute(s: SilencedRoute, i: number): Html {
  return html`<article class="delivery silenced" aria-labelledby="h-silenced-${i}">
    <h3 id="h-silenced-${i}">${s.destination} ${statePill('silenced')}</h3>
    <p class="meta" data-testid="silenced-${s.destination}">
      Not sent: silenced by
      <a href="/ui/silences#silence-${encodeURIComponent(s.silenceId)}">${s.silenceId}</a> · rules ${s.rules.join(', ')}
    </p>
  </article>`;
}

/** A grouped destination: the event went out (or waits to go) as a member of one group message. */
function renderGroupRoute(g: GroupMembership, i: number): Html {
  const message = g.messageEventId;
  return html`<article class="delivery grouped" aria-labelledby="h-grouped-${i}">
    <h3 id="h-grouped-${i}">${g.destination} ${statePill(g.state)}</h3>
    <p class="meta" data-testid="grouped-${g.destination}">
      ${
        message === null
          ? html`Grouped: waiting in its group since ${showTime(g.joinedAt)}`
          : html`Grouped: carried by group message <a href="/ui/events/${encodeURIComponent(message)}">${message}</a>${
                g.deliveryId === null ? '' : html` (delivery ${g.deliveryId})`
              }`
      }
      · rules ${g.rules.join(', ')}
    </p>
  </article>`;
}

function renderDelivery(d: EventDetail['deliveries'][number], csrf: string, here: string): Html {
  return html`<article class="delivery" id="delivery-${d.id}" aria-labelledby="h-${d.id}">
    <h3 id="h-${d.id}">${d.destination} ${statePill(d.state)}</h3>
    <p class="meta">
      Delivery ${d.id} · ${describeAttemptCount(d)} · rules ${d.rules.join(', ')}
      ${d.state === 'pending' ? html`· next attempt ${showTime(d.nextAttemptAt)}` : ''}
    </p>
    ${
      REPLAYABLE.has(d.state)
        ? html`<form method="post" action="/ui/deliveries/${encodeURIComponent(d.id)}/replay" class="inline">
            ${csrfField(csrf)}<input type="hidden" name="back" value="${here}" />
            <button type="submit" aria-label="Replay delivery to ${d.destination}">Replay</button>
          </form>`
        : ''
    }
    <div class="scroll">
      <table>
        <caption class="visually-hidden">
          Attempts to deliver to ${d.destination}
        </caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Outcome</th>
            <th scope="col">Status</th>
            <th scope="col">Answer</th>
          </tr>
        </thead>
        <tbody>
          ${
            d.attemptLog.length === 0
              ? html`<tr>
                  <td colspan="6">No attempt yet.</td>
                </tr>`
              : ''
          }
          ${numberAttempts(d.attemptLog).map(
            (a, i, all) =>
              html`<tr class="attempt">
                <td>
                  ${a.number}${a.round !== all[i - 1]?.round && a.round > 1 ? html` <small>(replayed)</small>` : ''}
                </td>
                <td>${showTime(a.startedAt)}</td>
                <td>${a.durationMs} ms</td>
                <td>${a.outcome}</td>
                <td>${orDash(a.status)}</td>
                <td class="snippet">
                  ${a.error ? html`<span class="bad">${a.error}</span><br />` : ''}${orDash(a.response)}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </article>`;
}

/** An id that cannot be one is not looked up: no such event. */
function eventIdOf(id: string | undefined): string {
  if (id === undefined || !ID_PATTERN.test(id)) throw new NotFoundError(`no event with id "${id ?? ''}"`);
  return id;
}

export const eventRoutes: PageRoutes = (router, { deps, csrfOf, page }) => {
  const { queries, replays } = deps.operations;
  router.get('/ui/events/:id', async (ctx) => {
    const detail = await queries.getEvent(eventIdOf(ctx.params['id']));
    page(ctx, renderEvent(detail, readQuery(ctx), csrfOf(ctx), deps.timezone));
  });

  router.post('/ui/events/:id/replay', async (ctx) => {
    const id = eventIdOf(ctx.params['id']);
    redirectAfterReplay(ctx, await replays.replayEvent(id), `/ui/events/${encodeURIComponent(id)}`);
  });
};
