import { expect } from 'chai';
import path from 'node:path';
import { Breakers } from '../../../src/delivery/breaker';
import type { ClaimedDelivery } from '../../../src/delivery/types';
import { dedupRules } from '../../../src/ingest/dedup';
import { createLogger } from '../../../src/log';
import { openStore, type Store } from '../../../src/store';
import { makeTempDir } from '../../support/daemon';

const DESTINATION = 'consumer';
const FAILURE = { retryable: true, status: 503, error: 'HTTP 503' };

function delivery(n: number): ClaimedDelivery {
  return {
    id: `dlv_${n}`,
    eventId: `evt_${n}`,
    destination: DESTINATION,
    rules: ['all'],
    attempt: 1,
    event: { id: `evt_${n}`, source: 'skyrelay', type: 'rejection', receivedAt: new Date().toISOString(), data: {} },
  };
}

/**
 * The worker's side of a breaker over a real SQLite store: successes and failures of concurrent sends interleave,
 * and only failures in a row may open it.
 */
describe('delivery breakers: failures in a row, with sends finishing out of order', () => {
  let store: Store;

  beforeEach(async () => {
    const file = path.join(makeTempDir(), 'skyrelay.db');
    store = await openStore({ path: file, rules: dedupRules }, createLogger({ level: 'silent' }));
  });
  afterEach(async () => {
    await store.close();
  });

  it('a failure recorded while a success is being written is counted again by the next success', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let gated = true;
    // The real store, with the first success's answer held back after its write: a failure then finishes first.
    const slowSuccess = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop !== 'recordBreakerSuccess') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<Store['recordBreakerSuccess']>) => {
          const answer = await target.recordBreakerSuccess(...args);
          if (gated) await gate;
          return answer;
        };
      },
    });
    const breakers = new Breakers({
      store: slowSuccess,
      settings: new Map([[DESTINATION, { failures: 3, probeIntervalMs: 30_000 }]]),
      types: new Map([[DESTINATION, 'webhook' as const]]),
      logger: createLogger({ level: 'silent' }),
      onChange: () => undefined,
      refreshMs: 60_000,
    });

    expect(await breakers.afterFailure(delivery(1), FAILURE)).to.equal(false);
    const success = breakers.afterSuccess(delivery(2));
    // This failure's write lands after the success's write, and it finishes while the success is still under way.
    expect(await breakers.afterFailure(delivery(3), FAILURE)).to.equal(false);
    gated = false;
    release();
    await success;
    // A success after it: the failure above was not in a row with the next ones.
    await breakers.afterSuccess(delivery(4));
    expect(await breakers.afterFailure(delivery(5), FAILURE)).to.equal(false);
    expect(await breakers.afterFailure(delivery(6), FAILURE)).to.equal(false);
    const [state] = await store.readBreakers();
    expect(state).to.include({ destination: DESTINATION, state: 'closed', failures: 2 });
  });
});
