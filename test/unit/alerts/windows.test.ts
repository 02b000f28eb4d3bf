import { expect } from 'chai';
import path from 'node:path';
import type { Store } from '../../../src/store';
import type { NewRejection } from '../../../src/ingest/types';
import { makeTempDir } from '../../support/daemon';
import { openSqliteStore, sqliteHandle } from '../../support/sqlite';

const WINDOW = 60_000;

function rejection(reason: string, description = 'wrong authentication key'): NewRejection {
  return {
    id: 'rej_1',
    receivedAt: new Date(0),
    remoteAddress: '203.0.113.7',
    method: 'POST',
    path: '/callbacks/skypay',
    contentType: 'application/json',
    status: 401,
    reason,
    description,
    partner: 'AppName@skypay',
    body: undefined,
  };
}

describe('rejection alert windows (rate limit kept in the store)', () => {
  let file: string;
  let store: Store;
  beforeEach(() => {
    file = path.join(makeTempDir(), 'w.db');
    store = openSqliteStore(file);
  });
  afterEach(() => store.close());

  it('admits the first rejection per reason and destination, and folds the rest of the window', async () => {
    expect(await store.admitRejectionAlert(rejection('unauthenticated'), ['slack', 'email'], 0, WINDOW)).to.deep.equal([
      { destination: 'slack', folded: 0 },
      { destination: 'email', folded: 0 },
    ]);
    expect(
      await store.admitRejectionAlert(rejection('unauthenticated'), ['slack', 'email'], 1_000, WINDOW),
    ).to.deep.equal([]);
    expect(await store.admitRejectionAlert(rejection('unauthenticated'), ['slack'], 59_999, WINDOW)).to.deep.equal([]);
    // Another reason has its own window.
    expect(await store.admitRejectionAlert(rejection('invalid'), ['slack'], 2_000, WINDOW)).to.deep.equal([
      { destination: 'slack', folded: 0 },
    ]);
    // A rejection after the window carries what was folded, when no summary went out meanwhile.
    expect(await store.admitRejectionAlert(rejection('unauthenticated'), ['slack'], 60_000, WINDOW)).to.deep.equal([
      { destination: 'slack', folded: 2 },
    ]);
  });

  it('closes expired windows once: a summary for folded rejections, and drops quiet ones', async () => {
    await store.admitRejectionAlert(rejection('unauthenticated'), ['slack'], 0, WINDOW);
    await store.admitRejectionAlert(rejection('invalid'), ['slack'], 0, WINDOW);
    await store.admitRejectionAlert(rejection('unauthenticated', 'unknown partner'), ['slack'], 10_000, WINDOW);
    expect(await store.closeExpiredAlertWindows(59_999, WINDOW)).to.deep.equal([]);
    const closed = await store.closeExpiredAlertWindows(60_000, WINDOW);
    expect(closed).to.deep.equal([
      {
        destination: 'slack',
        reason: 'unauthenticated',
        folded: 1,
        windowMs: WINDOW,
        lastStatus: 401,
        lastPartner: 'AppName@skypay',
        lastRemoteAddress: '203.0.113.7',
        lastDescription: 'unknown partner',
      },
    ]);
    // A second closer (another process) finds nothing left to send.
    expect(await store.closeExpiredAlertWindows(60_001, WINDOW)).to.deep.equal([]);
    // The summary opened a new window: a steady stream yields one alert per window.
    expect(await store.admitRejectionAlert(rejection('unauthenticated'), ['slack'], 61_000, WINDOW)).to.deep.equal([]);
    expect(sqliteHandle(store).prepare('SELECT reason FROM alert_windows').pluck().all()).to.deep.equal([
      'unauthenticated',
    ]);
  });

  it('survives a restart: a new store on the file sees the open window', async () => {
    await store.admitRejectionAlert(rejection('unauthenticated'), ['slack'], 0, WINDOW);
    const other = openSqliteStore(file);
    try {
      expect(await other.admitRejectionAlert(rejection('unauthenticated'), ['slack'], 5_000, WINDOW)).to.deep.equal([]);
    } finally {
      await other.close();
    }
  });
});
