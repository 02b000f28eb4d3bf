import { expect } from 'chai';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { prepareAlertWindows } from '../../../src/alerts/windows';
import { openDatabase } from '../../../src/store/sqlite';
import type { NewRejection } from '../../../src/store/types';
import { makeTempDir } from '../../support/daemon';

const WINDOW = 60_000;

function refusal(reason: string, description = 'wrong authentication key'): NewRejection {
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

describe('rejection alert windows (rate limit kept in SQLite)', () => {
  let file: string;
  let db: Database.Database;
  beforeEach(() => {
    file = path.join(makeTempDir(), 'w.db');
    db = openDatabase({ path: file, synchronous: 'NORMAL' });
  });
  afterEach(() => db.close());

  it('admits the first refusal per reason and destination, and folds the rest of the window', () => {
    const w = prepareAlertWindows(db, WINDOW);
    expect(w.admit(refusal('unauthenticated'), ['slack', 'email'], 0)).to.deep.equal([
      { destination: 'slack', folded: 0 },
      { destination: 'email', folded: 0 },
    ]);
    expect(w.admit(refusal('unauthenticated'), ['slack', 'email'], 1_000)).to.deep.equal([]);
    expect(w.admit(refusal('unauthenticated'), ['slack'], 59_999)).to.deep.equal([]);
    // Another reason has its own window.
    expect(w.admit(refusal('invalid'), ['slack'], 2_000)).to.deep.equal([{ destination: 'slack', folded: 0 }]);
    // A refusal after the window carries what was folded, when no summary went out meanwhile.
    expect(w.admit(refusal('unauthenticated'), ['slack'], 60_000)).to.deep.equal([{ destination: 'slack', folded: 2 }]);
  });

  it('closes expired windows once: a summary for folded refusals, and drops quiet ones', () => {
    const w = prepareAlertWindows(db, WINDOW);
    w.admit(refusal('unauthenticated'), ['slack'], 0);
    w.admit(refusal('invalid'), ['slack'], 0);
    w.admit(refusal('unauthenticated', 'unknown partner'), ['slack'], 10_000);
    expect(w.closeExpired(59_999)).to.deep.equal([]);
    const closed = w.closeExpired(60_000);
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
    expect(w.closeExpired(60_001)).to.deep.equal([]);
    // The summary opened a new window: a steady stream yields one alert per window.
    expect(w.admit(refusal('unauthenticated'), ['slack'], 61_000)).to.deep.equal([]);
    expect(db.prepare('SELECT reason FROM alert_windows').pluck().all()).to.deep.equal(['unauthenticated']);
  });

  it('survives a restart: a new connection to the file sees the open window', () => {
    prepareAlertWindows(db, WINDOW).admit(refusal('unauthenticated'), ['slack'], 0);
    const other = openDatabase({ path: file, synchronous: 'NORMAL' });
    try {
      expect(prepareAlertWindows(other, WINDOW).admit(refusal('unauthenticated'), ['slack'], 5_000)).to.deep.equal([]);
    } finally {
      other.close();
    }
  });
});
