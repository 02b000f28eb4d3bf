import { createLogger } from '../../src/log';
import { dedupRules } from '../../src/ingest/dedup';
import { openStore, type Store, type StoreOptions } from '../../src/store';

/**
 * Opens the store at `file` (never creating one) the way the CLI does, or the PostgreSQL database at `{ url }`,
 * runs `work`, closes it: how tests read results, through the same interface the CLI and the admin API use.
 */
export async function withStore<T>(at: string | { url: string }, work: (store: Store) => Promise<T>): Promise<T> {
  const options = typeof at === 'string' ? { path: at, mustExist: true } : { path: '', url: at.url, poolSize: 2 };
  const store = await openStore({ ...options, rules: dedupRules }, createLogger({ level: 'silent' }));
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** Enough for any listing a test makes. */
export const ALL = 1_000_000;

/** A PostgreSQL store on `url`, opened as the daemon opens one (its schema migrated first). */
export function openPostgresStore(
  options: Omit<StoreOptions, 'path' | 'rules' | 'url'> & { url: string },
): Promise<Store> {
  return openStore({ path: '', rules: dedupRules, ...options }, createLogger({ level: 'silent' }));
}
