import type { StoreContext } from './context';
import { toFoldedWindow, type AlertWindowRow } from './rows';
import { all, get, rows, run, type Dialect, type Script } from './sql';
import type { AlertWindowStore, MetricTotalsStore } from './store';
import type { MetricProcess } from '../metrics/types';
import type { Admission, FoldedWindow } from '../alerts/types';
import type { LabelSet, Sample } from '../metrics/types';
import type { NewRejection } from '../ingest/types';

/**
 * State every process shares through the store: the rejection-alert windows (so alerts are not doubled across
 * processes and restarts) and the metric totals (so any process's /metrics answers for all).
 */

/**
 * Which destinations get an alert for this rejection now. A window that does not exist yet is created by whichever
 * process's insert wins; the others lock the row and decide on what the winner wrote, so one rejection per window
 * is admitted across hosts. Destinations are taken in name order, so two processes never wait on each other.
 */
function* admit(
  d: Dialect,
  r: NewRejection,
  destinations: readonly string[],
  now: number,
  windowMs: number,
): Script<Admission[]> {
  const admitted: Admission[] = [];
  for (const destination of [...destinations].sort()) {
    const opened = yield* run(
      `INSERT INTO alert_windows (reason, destination, opened_ms, folded) VALUES (?, ?, ?, 0)
       ON CONFLICT (reason, destination) DO NOTHING`,
      [r.reason, destination, now],
    );
    if (opened === 1) {
      admitted.push({ destination, folded: 0 });
      continue;
    }
    const row = yield* get<AlertWindowRow>(
      `SELECT * FROM alert_windows WHERE reason = ? AND destination = ?${d.forUpdate}`,
      [r.reason, destination],
    );
    if (row && now - Number(row.opened_ms) < windowMs) {
      yield* run(
        `UPDATE alert_windows SET folded = folded + 1, last_status = ?, last_partner = ?, last_remote_address = ?,
           last_description = ? WHERE reason = ? AND destination = ?`,
        [r.status, r.partner ?? null, r.remoteAddress ?? null, r.description, r.reason, destination],
      );
      continue;
    }
    yield* run('UPDATE alert_windows SET opened_ms = ?, folded = 0 WHERE reason = ? AND destination = ?', [
      now,
      r.reason,
      destination,
    ]);
    admitted.push({ destination, folded: Number(row?.folded ?? 0) });
  }
  // Back in the caller's order.
  return destinations.flatMap((name) => admitted.filter((a) => a.destination === name));
}

/**
 * Closes expired windows: one with folded rejections becomes a summary (and a new window, so a steady attack yields
 * one alert per window); an empty one is dropped. Rows another process is closing are passed over (PostgreSQL), and
 * once it commits they are no longer expired: each window's summary is sent once.
 */
function* closeExpired(d: Dialect, now: number, windowMs: number): Script<(FoldedWindow & { destination: string })[]> {
  const expired = yield* all<AlertWindowRow>(
    `SELECT * FROM alert_windows WHERE opened_ms <= ? ORDER BY reason, destination${d.forUpdateSkipLocked}`,
    [now - windowMs],
  );
  const summaries: (FoldedWindow & { destination: string })[] = [];
  for (const row of expired) {
    if (Number(row.folded) === 0) {
      yield* run('DELETE FROM alert_windows WHERE reason = ? AND destination = ?', [row.reason, row.destination]);
      continue;
    }
    yield* run('UPDATE alert_windows SET opened_ms = ?, folded = 0 WHERE reason = ? AND destination = ?', [
      now,
      row.reason,
      row.destination,
    ]);
    summaries.push(toFoldedWindow(row, windowMs));
  }
  return summaries;
}

/**
 * Adds deltas to the totals with one upsert per series, in series order so two processes publishing at once wait
 * for each other rather than deadlock, and saves this process's own row.
 */
function* publish(d: Dialect, deltas: readonly Sample[], process: MetricProcess & { now: number }): Script<void> {
  const bySeries = new Map<string, Sample>();
  for (const s of deltas) {
    const seen = bySeries.get(s.series);
    bySeries.set(s.series, seen ? { ...seen, value: seen.value + s.value } : s);
  }
  const samples = [...bySeries.values()].sort((a, b) => (a.series < b.series ? -1 : a.series > b.series ? 1 : 0));
  yield* rows(
    `INSERT INTO metric_series (series, family, type, help, sample, labels, value)
     SELECT r.series, r.family, r.type, r.help, r.sample, r.labels, r.value FROM :rows AS r WHERE true
     ORDER BY r.series${d.byteOrder}
     ON CONFLICT (series) DO UPDATE SET value = metric_series.value + excluded.value`,
    {
      columns: [
        ['series', 'text'],
        ['family', 'text'],
        ['type', 'text'],
        ['help', 'text'],
        ['sample', 'text'],
        ['labels', 'text'],
        ['value', 'float'],
      ],
      rows: samples.map((s) => [s.series, s.family, s.type, s.help, s.sample, JSON.stringify(s.labels), s.value]),
    },
  );
  yield* run(
    `INSERT INTO metric_processes (instance, pid, updated_ms, body) VALUES (?, ?, ?, ?)
     ON CONFLICT (instance) DO UPDATE SET pid = excluded.pid, updated_ms = excluded.updated_ms, body = excluded.body`,
    [process.instance, process.pid, process.now, JSON.stringify(process.families)],
  );
}

export function createAlertWindowStore(ctx: StoreContext): AlertWindowStore {
  const { write, d } = ctx;
  return {
    admitRejectionAlert: (rejection, destinations, now, windowMs) =>
      write(() => admit(d, rejection, destinations, now, windowMs)),
    closeExpiredAlertWindows: (now, windowMs) => write(() => closeExpired(d, now, windowMs)),
  };
}

export function createMetricTotalsStore(ctx: StoreContext): MetricTotalsStore {
  const { read, write, d } = ctx;
  return {
    publishMetrics: (deltas, process) => write(() => publish(d, deltas, process)),
    readMetricTotals: () =>
      read(function* () {
        const found = yield* all<Omit<Sample, 'labels'> & { labels: string }>(
          `SELECT series, family, type, help, sample, labels, value FROM metric_series ORDER BY series${d.byteOrder}`,
        );
        return found.map((r) => ({ ...r, value: Number(r.value), labels: JSON.parse(r.labels) as LabelSet }));
      }),
    readMetricProcesses: (sinceMs) =>
      read(function* () {
        const found = yield* all<{ instance: string; pid: number; body: string }>(
          `SELECT instance, pid, body FROM metric_processes WHERE updated_ms >= ? ORDER BY instance${d.byteOrder}`,
          [sinceMs],
        );
        return found.map((r) => ({
          instance: r.instance,
          pid: Number(r.pid),
          families: JSON.parse(r.body) as MetricProcess['families'],
        }));
      }),
    dropMetricProcess: async (instance) => {
      await write(() => run('DELETE FROM metric_processes WHERE instance = ?', [instance]));
    },
    dropStaleMetricProcesses: async (beforeMs) => {
      await write(() => run('DELETE FROM metric_processes WHERE updated_ms < ?', [beforeMs]));
    },
  };
}
