import type { StoreContext } from './context';
import { SilenceEndedError } from './errors';
import { SILENCE_COLUMNS, silenceValues, toSilenceView, type Row } from './rows';
import { all, get } from './sql';
import type { SilenceStore } from './store';

/** Silences and their audit trail: rare, small writes; every process reads the current ones again each refresh. */
export function createSilenceStore(ctx: StoreContext): SilenceStore {
  const { read, readQuick, write } = ctx;
  return {
    createSilence: (s) =>
      write(function* () {
        const row = yield* get(
          `INSERT INTO silences (${SILENCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
          silenceValues(s),
        );
        return toSilenceView(row as Row);
      }),
    listSilences: (f) =>
      read(function* () {
        const found =
          f.before === undefined
            ? yield* all('SELECT * FROM silences ORDER BY id DESC LIMIT ?', [f.limit])
            : yield* all('SELECT * FROM silences WHERE id < ? ORDER BY id DESC LIMIT ?', [f.before, f.limit]);
        return found.map(toSilenceView);
      }),
    // Every refresh (each second): a small indexed read, on the store's connection where that matters (SQLite).
    listCurrentSilences: (now) =>
      readQuick(function* () {
        const found = yield* all('SELECT * FROM silences WHERE expired_ms IS NULL AND ends_ms > ? ORDER BY id', [now]);
        return found.map(toSilenceView);
      }),
    // The row lock makes two simultaneous expiries record the first one only.
    expireSilence: (id, expiredBy, now, audit) =>
      write(function* () {
        const row = yield* get(
          `UPDATE silences SET expired_by = ?, expired_ms = ?, expired_via = ?, expired_from = ?
           WHERE id = ? AND expired_ms IS NULL AND ends_ms > ?
           RETURNING *`,
          [expiredBy, now, audit?.via ?? null, audit?.from ?? null, id, now],
        );
        if (row) return toSilenceView(row);
        if ((yield* get('SELECT 1 AS found FROM silences WHERE id = ?', [id])) === undefined) return undefined;
        throw new SilenceEndedError(id);
      }),
  };
}
