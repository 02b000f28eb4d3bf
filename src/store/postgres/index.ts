import type { Logger } from '../../log';
import type { Store, StoreOptions } from '../store';
import { PostgresStore } from './postgres-store';

/**
 * What openStore (src/store/index.ts) calls when store.url is set. Connection
 * trouble the store gets over by itself is logged without the URL, which may
 * hold a password.
 */
export async function openPostgresStore(options: StoreOptions & { url: string }, logger: Logger): Promise<Store> {
  const store = await PostgresStore.open({
    url: options.url,
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
    ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
    ...(options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch }),
    onConnectionError: (err) =>
      logger.warn({ code: (err as { code?: unknown }).code, message: err.message }, 'PostgreSQL connection lost'),
  });
  logger.debug('store opened (PostgreSQL)');
  return store;
}
