import type Database from 'better-sqlite3';
import type { LabelSet, MetricFamily, Sample } from '../types';

/**
 * The SQL behind cluster-wide metrics. Deltas are added with an upsert in
 * one transaction, so processes flushing at the same time never lose each
 * other's increments and totals never go down when a process is replaced.
 */
export function prepareSharedMetrics(db: Database.Database) {
  const add = db.prepare(`
    INSERT INTO metric_series (series, family, type, help, sample, labels, value)
    VALUES (@series, @family, @type, @help, @sample, @labels, @value)
    ON CONFLICT (series) DO UPDATE SET value = value + excluded.value`);
  const readTotals = db.prepare('SELECT * FROM metric_series');
  const saveProcess = db.prepare(`
    INSERT INTO metric_processes (instance, pid, updated_ms, body) VALUES (?, ?, ?, ?)
    ON CONFLICT (instance) DO UPDATE SET updated_ms = excluded.updated_ms, body = excluded.body`);
  const readProcesses = db.prepare(
    'SELECT instance, pid, body FROM metric_processes WHERE updated_ms >= ? ORDER BY instance',
  );
  const dropProcess = db.prepare('DELETE FROM metric_processes WHERE instance = ?');
  const dropStale = db.prepare('DELETE FROM metric_processes WHERE updated_ms < ?');

  const flush = db.transaction(
    (deltas: readonly Sample[], process: { instance: string; pid: number; now: number; families: MetricFamily[] }) => {
      for (const d of deltas) add.run({ ...d, labels: JSON.stringify(d.labels) });
      saveProcess.run(process.instance, process.pid, process.now, JSON.stringify(process.families));
    },
  );

  return {
    flush: (
      deltas: readonly Sample[],
      process: { instance: string; pid: number; now: number; families: MetricFamily[] },
    ) => flush.immediate(deltas, process),
    readTotals: (): Sample[] =>
      (readTotals.all() as (Omit<Sample, 'labels'> & { labels: string })[]).map((r) => ({
        ...r,
        labels: JSON.parse(r.labels) as LabelSet,
      })),
    readProcesses: (sinceMs: number) =>
      (readProcesses.all(sinceMs) as { instance: string; pid: number; body: string }[]).map((r) => ({
        instance: r.instance,
        pid: r.pid,
        families: JSON.parse(r.body) as MetricFamily[],
      })),
    dropProcess: (instance: string) => dropProcess.run(instance),
    dropStale: (beforeMs: number) => dropStale.run(beforeMs),
  };
}
