import type { ClientBase, Pool } from 'pg';
import { SilenceEndedError } from '../errors';
import { SILENCE_COLUMNS, silenceValues, toSilenceView, type Row } from '../rows';
import type { NewSilence, SilenceAudit, SilenceFilter, SilenceView } from '../types';

/** Silences' SQL for PostgreSQL: rare, small writes; every instance reads them again each refresh. */
export async function createSilence(pool: Pool, s: NewSilence): Promise<SilenceView> {
  const { rows } = await pool.query<Row>(
    `INSERT INTO silences (${SILENCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
    silenceValues(s),
  );
  return toSilenceView(rows[0] as Row);
}

export async function listSilences(pool: Pool, f: SilenceFilter): Promise<SilenceView[]> {
  const { rows } =
    f.before === undefined
      ? await pool.query<Row>('SELECT * FROM silences ORDER BY id DESC LIMIT $1', [f.limit])
      : await pool.query<Row>('SELECT * FROM silences WHERE id < $1 ORDER BY id DESC LIMIT $2', [f.before, f.limit]);
  return rows.map(toSilenceView);
}

export async function listCurrentSilences(pool: Pool, now: number): Promise<SilenceView[]> {
  const { rows } = await pool.query<Row>(
    'SELECT * FROM silences WHERE expired_ms IS NULL AND ends_ms > $1 ORDER BY id',
    [now],
  );
  return rows.map(toSilenceView);
}

/** In the caller's transaction: the row lock makes two simultaneous expiries record the first one only. */
export async function expireSilence(
  client: ClientBase,
  id: string,
  by: string,
  now: number,
  audit?: SilenceAudit,
): Promise<SilenceView | undefined> {
  const { rows } = await client.query<Row>(
    `UPDATE silences SET expired_by = $1, expired_ms = $2, expired_via = $4, expired_from = $5
     WHERE id = $3 AND expired_ms IS NULL AND ends_ms > $2
     RETURNING *`,
    [by, now, id, audit?.via ?? null, audit?.from ?? null],
  );
  if (rows[0]) return toSilenceView(rows[0]);
  const found = await client.query('SELECT 1 FROM silences WHERE id = $1', [id]);
  if (found.rowCount === 0) return undefined;
  throw new SilenceEndedError(id);
}
