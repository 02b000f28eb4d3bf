import type Database from 'better-sqlite3';

/**
 * Locks for jobs that run in one process at a time on one file. Taken in an IMMEDIATE transaction, so two
 * processes asking together cannot both get it; a row whose holder stopped renewing (it died) expires and the
 * next process to ask takes it over.
 */
export function prepareJobLocks(db: Database.Database) {
  const take = db.prepare(`INSERT INTO job_locks (name, owner, until_ms) VALUES (@name, @owner, @until)
    ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until_ms = excluded.until_ms
    WHERE job_locks.owner = excluded.owner OR job_locks.until_ms < @now`);
  const renew = db.prepare('UPDATE job_locks SET until_ms = @until WHERE name = @name AND owner = @owner');
  const release = db.prepare('DELETE FROM job_locks WHERE name = @name AND owner = @owner');
  const takeOnce = db.transaction((p: { name: string; owner: string; now: number; until: number }) => {
    return take.run(p).changes === 1;
  });
  return {
    /** True when `owner` now holds `name` until `until`. */
    take: (name: string, owner: string, now: number, until: number): boolean =>
      takeOnce.immediate({ name, owner, now, until }),
    /** False when the lock was lost meanwhile (expired and taken by another). */
    renew: (name: string, owner: string, until: number): boolean => renew.run({ name, owner, until }).changes === 1,
    release: (name: string, owner: string): void => {
      release.run({ name, owner });
    },
  };
}
