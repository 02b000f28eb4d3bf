import type Database from 'better-sqlite3';
import type { Admission, FoldedWindow, NewRejection } from '../types';
import { toFoldedWindow, type AlertWindowRow } from '../rows';

/**
 * The rejection-alert windows' SQL: per reason and destination, the first rejection is sent, later ones within
 * windowMs are only counted, and whoever closes the window (any process) sends the count.
 */
export function prepareAlertWindows(db: Database.Database) {
  const get = db.prepare('SELECT * FROM alert_windows WHERE reason = ? AND destination = ?');
  const open = db.prepare(`INSERT INTO alert_windows (reason, destination, opened_ms, folded) VALUES (?, ?, ?, 0)
    ON CONFLICT (reason, destination) DO UPDATE SET opened_ms = excluded.opened_ms, folded = 0`);
  const fold = db.prepare(`UPDATE alert_windows SET folded = folded + 1, last_status = ?, last_partner = ?,
    last_remote_address = ?, last_description = ? WHERE reason = ? AND destination = ?`);
  const expired = db.prepare('SELECT * FROM alert_windows WHERE opened_ms <= ?');
  const reopen = db.prepare('UPDATE alert_windows SET opened_ms = ?, folded = 0 WHERE reason = ? AND destination = ?');
  const close = db.prepare('DELETE FROM alert_windows WHERE reason = ? AND destination = ?');

  /** Which destinations get an alert for this rejection now; the rest are counted. */
  const admit = db.transaction(
    (r: NewRejection, destinations: readonly string[], now: number, windowMs: number): Admission[] => {
      const admitted: Admission[] = [];
      for (const destination of destinations) {
        const row = get.get(r.reason, destination) as AlertWindowRow | undefined;
        if (row && now - row.opened_ms < windowMs) {
          fold.run(r.status, r.partner ?? null, r.remoteAddress ?? null, r.description, r.reason, destination);
          continue;
        }
        open.run(r.reason, destination, now);
        admitted.push({ destination, folded: row?.folded ?? 0 });
      }
      return admitted;
    },
  );

  /**
   * Closes expired windows: one with folded rejections becomes a summary (and
   * a new window, so a steady attack yields one alert per window); an empty
   * one is dropped. Claimed in one transaction, so one process sends each.
   */
  const closeExpired = db.transaction((now: number, windowMs: number): (FoldedWindow & { destination: string })[] => {
    const summaries: (FoldedWindow & { destination: string })[] = [];
    for (const row of expired.all(now - windowMs) as AlertWindowRow[]) {
      if (row.folded === 0) {
        close.run(row.reason, row.destination);
        continue;
      }
      reopen.run(now, row.reason, row.destination);
      summaries.push(toFoldedWindow(row, windowMs));
    }
    return summaries;
  });

  return {
    admit: (r: NewRejection, destinations: readonly string[], now: number, windowMs: number) =>
      admit.immediate(r, destinations, now, windowMs),
    closeExpired: (now: number, windowMs: number) => closeExpired.immediate(now, windowMs),
  };
}
