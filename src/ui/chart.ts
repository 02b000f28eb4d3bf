import { CALLBACK_TALLIES, type CallbackMinute, type CallbackTally } from '../operations/views';
import { html, type Html } from './html';
import { MINUTE_MS } from './tally';

export interface MinuteSeries {
  /** Minute starts, oldest first, one per minute of the window (the current minute last). */
  minutes: number[];
  counts: Record<CallbackTally, number[]>;
  totals: Record<CallbackTally, number>;
}

/** The store's sparse rows as one dense series per outcome over the last `span` minutes ending with now's. */
export function toMinuteSeries(rows: readonly CallbackMinute[], now: number, span = 60): MinuteSeries {
  const last = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const minutes = Array.from({ length: span }, (_, i) => last - (span - 1 - i) * MINUTE_MS);
  const counts = { accepted: [], duplicate: [], rejected: [] } as Record<CallbackTally, number[]>;
  const totals = { accepted: 0, duplicate: 0, rejected: 0 } as Record<CallbackTally, number>;
  for (const t of CALLBACK_TALLIES) counts[t] = minutes.map(() => 0);
  for (const r of rows) {
    const i = (r.minuteMs - minutes[0]!) / MINUTE_MS;
    if (!Number.isInteger(i) || i < 0 || i >= span) continue;
    counts[r.outcome][i]! += r.count;
    totals[r.outcome] += r.count;
  }
  return { minutes, counts, totals };
}

const COLORS: Record<CallbackTally, string> = { accepted: '#1a7f37', duplicate: '#9a6700', rejected: '#cf222e' };
const LABELS: Record<CallbackTally, string> = { accepted: 'accepted', duplicate: 'duplicate', rejected: 'refused' };

/**
 * Stacked bars per minute as inline SVG, drawn on the server: no chart library, no script. The numbers are in
 * its label and in the table next to it, so a screen reader gets them too.
 */
export function renderChart(series: MinuteSeries): Html {
  const width = 600;
  const height = 160;
  const top = 6;
  const bottom = 2;
  const plot = height - top - bottom;
  const stacked = series.minutes.map((_, i) => CALLBACK_TALLIES.reduce((n, t) => n + (series.counts[t][i] ?? 0), 0));
  const max = Math.max(1, ...stacked);
  const barWidth = width / series.minutes.length;
  const bars = series.minutes.map((_, i) => {
    let y = top + plot;
    return CALLBACK_TALLIES.map((t) => {
      const n = series.counts[t][i] ?? 0;
      if (n === 0) return html``;
      const h = (n / max) * plot;
      y -= h;
      return html`<rect
        x="${(i * barWidth + 1).toFixed(1)}"
        y="${y.toFixed(1)}"
        width="${(barWidth - 2).toFixed(1)}"
        height="${h.toFixed(1)}"
        fill="${COLORS[t]}"
        ><title>${n} ${LABELS[t]}</title></rect
      >`;
    });
  });
  const busiest = Math.max(0, ...stacked);
  const label =
    `Callbacks per minute over the last hour: ${series.totals.accepted} accepted, ` +
    `${series.totals.duplicate} duplicate, ${series.totals.rejected} refused; busiest minute ${busiest}`;
  // The busiest minute is a count: it goes with the other counts, not under the axis, where it read as a time.
  return html`<figure class="chart">
    <svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${label}" preserveAspectRatio="none">
      <line x1="0" y1="${top + plot}" x2="${width}" y2="${top + plot}" stroke="#888" />
      ${bars}
    </svg>
    <div class="axis"><span>60 min ago</span><span>now</span></div>
    <figcaption>
      ${CALLBACK_TALLIES.map(
        (t) =>
          html`<span class="legend"
            ><span class="swatch swatch-${t}"></span>${LABELS[t]} <strong>${series.totals[t]}</strong></span
          > `,
      )}
      <span class="busiest" data-testid="busiest-minute"
        >busiest minute <strong>${busiest}</strong> callback${busiest === 1 ? '' : 's'}</span
      >
    </figcaption>
  </figure>`;
}
