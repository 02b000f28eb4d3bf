import type { Store } from '../../../src/store/store';

/**
 * How the contract suite opens the SQLite store on a temp file. Branch s moves SQLite behind the Store interface
 * (src/store/index.ts `openStore`); until that is merged this build has no SQLite Store, and the suite runs against
 * PostgreSQL only. At the merge, switch it on:
 *
 *   export const openSqliteStore: OpenSqliteStore | undefined = (path) => openStore({ path }, silentLogger);
 */
export type OpenSqliteStore = (path: string) => Promise<Store>;

export const openSqliteStore: OpenSqliteStore | undefined = undefined;
