import { expect } from 'chai';
import { buildLedger, dayOf, dayWindow, findImbalances, yesterdayOf } from '../../../src/ledger/balance';
import { dueLedgerDay } from '../../../src/ledger/daily';
import { buildLedgerDailyEvent } from '../../../src/ledger/summary';
import { ledgerCsv } from '../../../src/cli/ledger';
import { buildLedgerFixture } from '../../support/fixtures';

const H = 3_600_000;

describe('ledger/balance: days in skypay.timezone and the equations', () => {
  it('makes a day of any calendar date in the zone, and refuses what is none', () => {
    expect(dayWindow('2026-12-01', 480)).to.deep.equal({
      day: '2026-12-01',
      startMs: Date.parse('2026-11-30T16:00:00Z'),
      endMs: Date.parse('2026-12-01T16:00:00Z'),
    });
    expect(dayWindow('2026-12-01', -330)?.startMs).to.equal(Date.parse('2026-12-01T05:30:00Z'));
    for (const bad of ['2026-02-30', '2026-13-01', '20261201', '2026-12-1', 'yesterday']) {
      expect(dayWindow(bad, 480), bad).to.equal(undefined);
    }
    expect(dayOf(Date.parse('2026-11-30T16:00:00Z'), 480)).to.equal('2026-12-01');
    expect(dayOf(Date.parse('2026-11-30T15:59:59.999Z'), 480)).to.equal('2026-11-30');
    expect(yesterdayOf(Date.parse('2026-12-01T00:30:00Z'), 480)).to.equal('2026-11-30');
  });

  it('makes the summary of day D due from D+1 at dailyAt until D+2 at dailyAt', () => {
    const at = (iso: string) => dueLedgerDay(Date.parse(iso), '09:00', 480);
    expect(at('2026-12-02T00:59:59Z')).to.equal('2026-11-30'); // 08:59 on 2 December: 1 December's is not due yet
    expect(at('2026-12-02T01:00:00Z')).to.equal('2026-12-01'); // 09:00
    expect(at('2026-12-02T15:59:59Z')).to.equal('2026-12-01'); // 23:59
    expect(at('2026-12-02T16:00:00Z')).to.equal('2026-12-01'); // 00:00 on 3 December, before 09:00
    expect(dueLedgerDay(Date.parse('2026-12-02T00:00:00Z'), '00:00', 0)).to.equal('2026-12-01');
  });

  it('lists each equation that does not hold, so balanced is false even with no row to blame', () => {
    const fine = buildLedgerFixture();
    expect(fine.balanced).to.equal(true);
    const counts = {
      callbacks: { accepted: 5, newEvents: 5, duplicates: 0, conflictingCopies: 0, rejected: {}, suppressed: 0 },
      events: { callback: 4, reconciliation: 0, skyrelay: 0 },
      routes: {
        hook: {
          routed: 3,
          delivered: 1,
          deliveredInGroup: 0,
          silenced: 0,
          dead: 0,
          pending: 1,
          inflight: 0,
          replayed: 0,
          oldestPendingMs: 0,
        },
      },
      payouts: fine.payouts,
      unexplained: [],
    };
    expect(findImbalances(counts).map((u) => u.id)).to.deep.equal(['callbacks', 'routes.hook']);
    const day = dayWindow('2026-12-01', 480)!;
    const ledger = buildLedger(counts, { day, timezone: '+08:00', partner: undefined, now: 90_000 });
    expect(ledger.balanced).to.equal(false);
    expect(ledger.routes['hook']?.oldestPendingSeconds).to.equal(90);
  });

  it('summarises a day flat, naming the first unexplained row, and writes CSV no spreadsheet runs', () => {
    const ledger = buildLedgerFixture({
      balanced: false,
      unexplained: [{ kind: 'delivery', id: 'dlv_1', why: '=HYPERLINK("x"), in state "lost"' }],
    });
    const event = buildLedgerDailyEvent(ledger, new Date(3 * H));
    expect(event.data).to.include({ day: '2026-12-01', balanced: false, unexplained: 1, accepted: 1, routes: 1 });
    expect(String(event.data['reason'])).to.contain('first: delivery dlv_1');
    const csv = ledgerCsv(ledger);
    expect(csv[0]).to.equal('section,key,detail,value');
    expect(csv).to.include(`unexplained,delivery,dlv_1,"'=HYPERLINK(""x""), in state ""lost"""`);
    expect(csv.at(-1)).to.equal('balanced,,,false');
  });
});
