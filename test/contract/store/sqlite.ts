import { dedupRules } from '../../../src/ingest/dedup';
import { openStore } from '../../../src/store';
import type { Store } from '../../../src/store/store';
import { createLogger } from '../../../src/log';

/** How the contract suite opens the SQLite store on a temp file: the way the daemon and the CLI do. */
export type OpenSqliteStore = (path: string) => Promise<Store>;

export const openSqliteStore: OpenSqliteStore = (path) =>
  openStore({ path, synchronous: 'NORMAL', rules: dedupRules }, createLogger({ level: 'silent' }));
