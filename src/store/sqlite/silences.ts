import type Database from 'better-sqlite3';
import { SilenceEndedError } from '../errors';
import { SILENCE_COLUMNS, silenceValues, toSilenceView, type Row } from '../rows';
import type { NewSilence, SilenceAudit, SilenceFilter, SilenceView } from '../types';

/** Silences' SQL for SQLite: rare, small writes, each its own transaction. */
export function prepareSilences(db: Database.Database) {
  const insert = db.prepare(
    `INSERT INTO silences (${SILENCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
  );
  const selectOne = db.prepare('SELECT * FROM silences WHERE id = ?');
  const current = db.prepare('SELECT * FROM silences WHERE expired_ms IS NULL AND ends_ms > ? ORDER BY id');
  const expire = db.prepare(`UPDATE silences SET expired_by = ?, expired_ms = ?, expired_via = ?, expired_from = ?
    WHERE id = ? AND expired_ms IS NULL AND ends_ms > ? RETURNING *`);

  const expireOne = db.transaction((id: string, by: string, now: number, audit?: SilenceAudit) => {
    const row = expire.get(by, now, audit?.via ?? null, audit?.from ?? null, id, now) as Row | undefined;
    if (row) return toSilenceView(row);
    if (selectOne.get(id) === undefined) return undefined;
    throw new SilenceEndedError(id);
  });

  return {
    create: (s: NewSilence): SilenceView => toSilenceView(insert.get(...silenceValues(s)) as Row),
    list: (f: SilenceFilter): SilenceView[] => {
      const rows =
        f.before === undefined
          ? db.prepare('SELECT * FROM silences ORDER BY id DESC LIMIT ?').all(f.limit)
          : db.prepare('SELECT * FROM silences WHERE id < ? ORDER BY id DESC LIMIT ?').all(f.before, f.limit);
      return (rows as Row[]).map(toSilenceView);
    },
    current: (now: number): SilenceView[] => (current.all(now) as Row[]).map(toSilenceView),
    expire: (id: string, by: string, now: number, audit?: SilenceAudit): SilenceView | undefined =>
      expireOne.immediate(id, by, now, audit),
  };
}
