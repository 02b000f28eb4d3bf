import type { ClientBase } from 'pg';
import type { MetricProcess } from '../store';
import type { Admission, FoldedWindow, LabelSet, NewRejection, Sample } from '../types';
import { toFoldedWindow, type AlertWindowRow } from '../rows';

/**
 * State every instance shares through PostgreSQL: the rejection-alert windows
 * (so alerts are not doubled across hosts) and the metric totals (so any
 * instance's /metrics answers for all).
 */

/**
 * Which destinations get an alert for this rejection now, in the caller's
 * transaction. A window that does not exist yet is created by whichever
 * instance's insert wins; everyone else locks the row and decides on what
 * the winner wrote, so one rejection per window is admitted across hosts.
 */
export async function admitRejectionAlert(
  client: ClientBase,
  r: NewRejection,
  destinations: readonly string[],
  now: number,
  windowMs: number,
): Promise<Admission[]> {
  const admitted: Admission[] = [];
  for (const destination of [...destinations].sort()) {
    const opened = await client.query(
      `INSERT INTO alert_windows (reason, destination, opened_ms, folded) VALUES ($1, $2, $3, 0)
       ON CONFLICT (reason, destination) DO NOTHING`,
      [r.reason, destination, now],
    );
    if (opened.rowCount === 1) {
      admitted.push({ destination, folded: 0 });
      continue;
    }
    const { rows } = await client.query<AlertWindowRow>(
      'SELECT * FROM alert_windows WHERE reason = $1 AND destination = $2 FOR UPDATE',
      [r.reason, destination],
    );
    const row = rows[0];
    if (row && now - row.opened_ms < windowMs) {
      await client.query(
        `UPDATE alert_windows SET folded = folded + 1, last_status = $1, last_partner = $2, last_remote_address = $3,
           last_description = $4 WHERE reason = $5 AND destination = $6`,
        [r.status, r.partner ?? null, r.remoteAddress ?? null, r.description, r.reason, destination],
      );
      continue;
    }
    await client.query(
      `INSERT INTO alert_windows (reason, destination, opened_ms, folded) VALUES ($1, $2, $3, 0)
       ON CONFLICT (reason, destination) DO UPDATE SET opened_ms = excluded.opened_ms, folded = 0`,
      [r.reason, destination, now],
    );
    admitted.push({ destination, folded: row?.folded ?? 0 });
  }
  // Back in the caller's order.
  return destinations.flatMap((d) => admitted.filter((a) => a.destination === d));
}

/**
 * Closes expired windows: one with folded rejections becomes a summary (and
 * a new window, so a steady attack yields one alert per window); an empty one
 * is dropped. Rows another instance is closing are skipped, and once it
 * commits they are no longer expired: each window's summary is sent once.
 */
export async function closeExpiredAlertWindows(
  client: ClientBase,
  now: number,
  windowMs: number,
): Promise<(FoldedWindow & { destination: string })[]> {
  const { rows } = await client.query<AlertWindowRow>(
    'SELECT * FROM alert_windows WHERE opened_ms <= $1 ORDER BY reason, destination FOR UPDATE SKIP LOCKED',
    [now - windowMs],
  );
  const summaries: (FoldedWindow & { destination: string })[] = [];
  for (const row of rows) {
    if (row.folded === 0) {
      await client.query('DELETE FROM alert_windows WHERE reason = $1 AND destination = $2', [
        row.reason,
        row.destination,
      ]);
      continue;
    }
    await client.query('UPDATE alert_windows SET opened_ms = $1, folded = 0 WHERE reason = $2 AND destination = $3', [
      now,
      row.reason,
      row.destination,
    ]);
    summaries.push(toFoldedWindow(row, windowMs));
  }
  return summaries;
}

/**
 * Adds deltas to the totals with one upsert, series in a fixed order so two
 * instances publishing at once wait for each other rather than deadlock.
 */
export async function publishMetrics(
  client: ClientBase,
  deltas: readonly Sample[],
  process: MetricProcess & { now: number },
): Promise<void> {
  const bySeries = new Map<string, Sample>();
  for (const d of deltas) {
    const seen = bySeries.get(d.series);
    bySeries.set(d.series, seen ? { ...seen, value: seen.value + d.value } : d);
  }
  const samples = [...bySeries.values()].sort((a, b) => (a.series < b.series ? -1 : a.series > b.series ? 1 : 0));
  if (samples.length > 0) {
    await client.query(
      `INSERT INTO metric_series (series, family, type, help, sample, labels, value)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
         $7::double precision[]) AS s (series, family, type, help, sample, labels, value)
       ORDER BY series COLLATE "C"
       ON CONFLICT (series) DO UPDATE SET value = metric_series.value + excluded.value`,
      [
        samples.map((s) => s.series),
        samples.map((s) => s.family),
        samples.map((s) => s.type),
        samples.map((s) => s.help),
        samples.map((s) => s.sample),
        samples.map((s) => JSON.stringify(s.labels)),
        samples.map((s) => s.value),
      ],
    );
  }
  await client.query(
    `INSERT INTO metric_processes (instance, pid, updated_ms, body) VALUES ($1, $2, $3, $4)
     ON CONFLICT (instance) DO UPDATE SET pid = excluded.pid, updated_ms = excluded.updated_ms, body = excluded.body`,
    [process.instance, process.pid, process.now, JSON.stringify(process.families)],
  );
}

export async function readMetricTotals(client: Pick<ClientBase, 'query'>): Promise<Sample[]> {
  const { rows } = await client.query<Omit<Sample, 'labels'> & { labels: string }>(
    'SELECT series, family, type, help, sample, labels, value FROM metric_series ORDER BY series COLLATE "C"',
  );
  return rows.map((r) => ({ ...r, labels: JSON.parse(r.labels) as LabelSet }));
}

export async function readMetricProcesses(
  client: Pick<ClientBase, 'query'>,
  sinceMs: number,
): Promise<MetricProcess[]> {
  const { rows } = await client.query<{ instance: string; pid: number; body: string }>(
    'SELECT instance, pid, body FROM metric_processes WHERE updated_ms >= $1 ORDER BY instance COLLATE "C"',
    [sinceMs],
  );
  return rows.map((r) => ({
    instance: r.instance,
    pid: r.pid,
    families: JSON.parse(r.body) as MetricProcess['families'],
  }));
}
