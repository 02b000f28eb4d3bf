import { expect } from 'chai';
import path from 'node:path';
import { GroupFlusher } from '../../../src/alerts/grouping/flusher';
import { createLogger } from '../../../src/log';
import type { Store } from '../../../src/store/store';
import { makeTempDir } from '../../support/daemon';
import { buildPayoutEvent } from '../../support/fixtures';
import { openSqliteStore } from '../../support/sqlite';

const KEY = JSON.stringify({ payType: 'failure', partner: 'Acme' });
const T = Date.parse('2026-11-27T08:00:00Z');

describe('group flusher (real SQLite store, clock mocked)', () => {
  let store: Store;
  let now = T;
  let flushed = 0;
  let flusher: GroupFlusher;

  beforeEach(async () => {
    store = openSqliteStore(path.join(makeTempDir(), 'flusher.db'));
    now = T;
    flushed = 0;
    flusher = new GroupFlusher({
      store,
      groupings: new Map([['ops', { by: ['payType', 'partner'], waitMs: 2_000, intervalMs: 5_000 }]]),
      logger: createLogger({ level: 'silent' }),
      onFlushed: () => (flushed += 1),
      now: () => now,
    });
    for (let i = 0; i < 3; i++) {
      const event = buildPayoutEvent({
        id: `evt_f${i}`,
        controlNumber: `SKF${i}`,
        receivedAt: new Date(T + i * 100).toISOString(),
      });
      await store.saveEvent(event, [{ id: `dlv_f${i}`, destination: 'ops', rules: ['r'], groupKey: KEY }]);
    }
  });

  afterEach(async () => {
    await flusher.stop();
    await store.close();
  });

  it('says when the group falls due, and flushes it then, once', async () => {
    now = T + 1_000;
    expect(await flusher.flushDue()).to.equal(T + 2_000);
    expect(flushed).to.equal(0);
    now = T + 2_000;
    expect(await flusher.flushDue()).to.equal(undefined);
    expect(flushed).to.equal(1);
    expect(await flusher.flushDue()).to.equal(undefined);
    expect(flushed, 'nothing left to flush').to.equal(1);
    const [message] = await store.listEvents({ type: 'group', limit: 5 });
    expect(message?.deliveries.pending).to.equal(1);
  });

  it('sends the members of a destination that no longer groups at once', async () => {
    const other = new GroupFlusher({
      store,
      groupings: new Map(),
      logger: createLogger({ level: 'silent' }),
      onFlushed: () => (flushed += 1),
      now: () => T,
    });
    await other.flushDue();
    expect(flushed).to.equal(1);
  });

  it('returns the first stop promise to a second stop', () => {
    flusher.start();
    const first = flusher.stop();
    expect(flusher.stop()).to.equal(first);
    return first;
  });
});
