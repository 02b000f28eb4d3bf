import { html, type Fragment, type Html } from './html';

export const UI_PREFIX = '/ui';

/**
 * The navigation, in order: one entry per page. Payouts and silences join here when they exist, so
 * adding a page is one line.
 */
export const NAV: readonly { path: string; label: string }[] = [
  { path: '/ui', label: 'Overview' },
  { path: '/ui/events', label: 'Events' },
  { path: '/ui/payouts', label: 'Payouts' },
  { path: '/ui/payouts?view=stuck', label: 'Stuck' },
  { path: '/ui/payouts?anomalies=1', label: 'Anomalies' },
  { path: '/ui/deliveries', label: 'Deliveries' },
  { path: '/ui/rejections', label: 'Refused callbacks' },
  { path: '/ui/destinations', label: 'Destinations' },
  { path: '/ui/silences', label: 'Silences' },
  { path: '/ui/ledger', label: 'Ledger' },
];

/**
 * Whether a nav entry is the page at `url`: its path (or a page below it), and each parameter of an entry that
 * has a query (the payouts page's stuck and anomalies views). The last entry that fits is the current one.
 */
export function isCurrent(entry: string, url: string): boolean {
  let here: URL;
  try {
    here = new URL(url, 'http://skyrelay.invalid');
  } catch {
    return false;
  }
  const target = new URL(entry, 'http://skyrelay.invalid');
  if (here.pathname !== target.pathname && !here.pathname.startsWith(`${target.pathname}/`)) return false;
  return [...target.searchParams].every(([k, v]) => here.searchParams.get(k) === v);
}

/** What a page handler gives the layout. */
export interface Page {
  title: string;
  body: Html;
  /** The overview and first page of events refresh themselves (static/app.js). */
  live?: boolean;
  status?: number;
}

export interface LayoutContext {
  /** The page's path and query, to mark the current nav entry. */
  path: string;
  /** Present when signed in: the nav and the sign-out form (with its CSRF token) are shown. */
  csrf?: string;
}

export function renderLayout(page: Page, ctx: LayoutContext): string {
  const current = NAV.filter((n) => isCurrent(n.path, ctx.path)).pop()?.path;
  const nav =
    ctx.csrf === undefined
      ? html``
      : html`<nav aria-label="Dashboard">
            <ul>
              ${NAV.map(
                (n) =>
                  html`<li>
                    <a href="${n.path}" ${n.path === current ? html`aria-current="page"` : ''}>${n.label}</a>
                  </li>`,
              )}
            </ul>
          </nav>
          <form method="post" action="/ui/sign-out" class="sign-out">
            ${csrfField(ctx.csrf)}<button type="submit">Sign out</button>
          </form>`;
  return html`<!DOCTYPE html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${page.title} · skyrelay</title>
        <link rel="stylesheet" href="/ui/static/app.css" />
        <script src="/ui/static/app.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header><span class="brand">skyrelay</span> ${nav}</header>
        <main id="main" ${page.live ? html`data-live="5000"` : ''}>${page.body}</main>
      </body>
    </html>`.text;
}

export function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}" />`;
}

/** `2026-11-27 07:01:02 UTC` in a <time> element, or a dash. */
export function showTime(isoOrMs: string | number | null | undefined): Html {
  if (isoOrMs === null || isoOrMs === undefined) return html`<span class="none">—</span>`;
  const d = new Date(isoOrMs);
  if (Number.isNaN(d.getTime())) return html`<span class="none">—</span>`;
  const iso = d.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')} UTC</time>`;
}

/** `42 s`, `7 min`, `3 h 5 min`, `2 d 4 h`. */
export function showAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function orDash(value: Fragment): Fragment {
  return value === null || value === undefined || value === '' ? html`<span class="none">—</span>` : value;
}

/** The banner a redirect after a replay asks for (?requeued=..): numbers only, so nothing else can be injected. */
export function replayNotice(q: Record<string, string | undefined>): Html {
  if (q['requeued'] === undefined) return html``;
  const n = (k: string): number => (/^\d{1,6}$/.test(q[k] ?? '') ? Number(q[k]) : 0);
  return html`<p class="notice" role="status">
    Replay: ${n('requeued')} requeued, ${n('created')} new deliveries, ${n('skipped')} skipped (not dead or delivered).
  </p>`;
}

export function errorBox(message: string): Html {
  return html`<p class="error" role="alert">${message}</p>`;
}

/** A filter's `<option>`s, the one its query names selected (the "any" option is the page's own). */
export function renderOptions(values: readonly string[], chosen: string | undefined): Html[] {
  return values.map((v) => html`<option value="${v}" ${chosen === v ? html`selected` : ''}>${v}</option>`);
}

export function statePill(state: string): Html {
  return html`<span class="pill pill-${/^[a-z]+$/.test(state) ? state : 'other'}">${state}</span>`;
}
