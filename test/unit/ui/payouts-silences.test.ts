import { expect } from 'chai';
import { FilterError } from '../../../src/operations/filters';
import { SilenceInputError } from '../../../src/alerts/silence-input';
import type { PayoutEvent } from '../../../src/event';
import { resolveStuckWaits, stuckCutoffs } from '../../../src/payouts/stuck-after';
import type { EventDetail, PayoutDetail } from '../../../src/store/types';
import { isCurrent, renderLayout } from '../../../src/ui/layout';
import { buildTimeline, payoutHref, renderPayout } from '../../../src/ui/pages/payout';
import { readPayoutFilter } from '../../../src/ui/pages/payouts';
import {
  EMPTY_SILENCE_FORM,
  readSilenceForm,
  toNewSilence,
  type SilenceForm,
} from '../../../src/ui/pages/silence-form';
import { html } from '../../../src/ui/html';
import { buildPayoutEvent } from '../../support/fixtures';

const NOW = Date.parse('2026-11-27T08:00:00Z');
const HOUR = 3_600_000;
const SIX_HOURS = resolveStuckWaits({
  stuckAfterMs: 6 * HOUR,
  stuckAfter: {},
  stuckAfterByPartner: {},
  checkIntervalMs: 1,
});
const OFF = resolveStuckWaits({ stuckAfterMs: 0, stuckAfter: {}, stuckAfterByPartner: {}, checkIntervalMs: 1 });

describe('dashboard: payouts page filters', () => {
  it('reads state, partner, older-than and anomalies as the admin API does, plus open and the stuck view', () => {
    expect(readPayoutFilter({}, NOW, SIX_HOURS)).to.deep.include({ open: undefined, anomalies: undefined });
    expect(
      readPayoutFilter({ state: 'paid', partner: 'Acme@skypay', olderThan: '2h', anomalies: '1' }, NOW, OFF),
    ).to.deep.include({ state: 'paid', partner: 'Acme@skypay', stateSinceBeforeMs: NOW - 2 * HOUR, anomalies: true });
    expect(readPayoutFilter({ state: 'open' }, NOW, OFF)).to.deep.include({ state: undefined, open: true });
    // The stuck view: open and past the stuck check's cutoffs, narrowed further by older-than.
    expect(readPayoutFilter({ view: 'stuck' }, NOW, SIX_HOURS)).to.deep.include({
      open: true,
      stuck: stuckCutoffs(SIX_HOURS, NOW),
      stateSinceBeforeMs: undefined,
    });
    expect(readPayoutFilter({ view: 'stuck', olderThan: '1d' }, NOW, SIX_HOURS)).to.deep.include({
      stateSinceBeforeMs: NOW - 24 * HOUR,
    });
  });

  it('names the filter a bad value came in', () => {
    const bad = (q: Record<string, string>, message: RegExp) =>
      expect(() => readPayoutFilter(q, NOW, SIX_HOURS)).to.throw(FilterError, message);
    bad({ state: 'lost' }, /^state: expected one of uploaded/);
    bad({ olderThan: 'soon' }, /^older-than: expected a duration/);
    bad({ partner: 'a\u0000b' }, /^partner:/);
    bad({ anomalies: 'yes' }, /^anomalies:/);
    bad({ cursor: '../x' }, /^cursor:/);
    expect(() => readPayoutFilter({ view: 'stuck' }, NOW, OFF)).to.throw(FilterError, /the stuck check is off/);
  });

  it('links a payout to its page with its partner, escaped for a URL', () => {
    expect(payoutHref({ controlNumber: 'SK 1/2', partner: 'A&B@skypay' })).to.equal(
      '/ui/payouts/SK%201%2F2?partner=A%26B%40skypay',
    );
  });
});

describe('dashboard: a payout timeline', () => {
  const detail = (e: Partial<PayoutEvent>, extra: Partial<EventDetail> = {}): EventDetail => ({
    event: buildPayoutEvent(e),
    duplicates: 0,
    lastSeenAt: null,
    deliveries: [],
    conflicts: [],
    groups: [],
    silenced: [],
    ...extra,
  });

  it('orders statuses by dealTime, puts a conflicting copy after the event it copies, and marks anomalies', () => {
    const paid = buildPayoutEvent({ id: 'evt_b', payType: 2, status: 'paid', dealTime: '2026-11-27 10:00:00' });
    const payout: PayoutDetail = {
      payout: {} as PayoutDetail['payout'],
      reconciliations: [],
      events: [
        detail({
          id: 'evt_c',
          payType: 6,
          status: 'amendedFailure',
          dealTime: '2026-11-27 11:00:00',
          transition: { from: 'paid', to: 'paid', kind: 'after-final' },
        }),
        detail(
          { ...paid, transition: { from: 'uploaded', to: 'paid', kind: 'forward' } },
          {
            duplicates: 2,
            conflicts: [
              {
                id: 'cpy_1',
                receivedAt: '2026-11-27T03:00:00Z',
                repeats: 1,
                differs: ['failDescription'],
                copy: { ...paid, failDescription: 'other' },
              },
            ],
          },
        ),
        detail({ id: 'evt_a', payType: 1, status: 'upload', dealTime: '2026-11-27 09:00:00' }),
      ],
    };
    const rows = buildTimeline(payout);
    expect(rows.map((r) => [r.eventId, r.status, r.duplicates, r.anomaly])).to.deep.equal([
      ['evt_a', 'upload', 0, false],
      ['evt_b', 'paid', 2, false],
      ['evt_b', 'paid', null, true],
      ['evt_c', 'amendedFailure', 0, true],
    ]);
    expect(rows[0]?.transition.text).to.contain('stored before payouts were kept');
    expect(rows[2]?.transition.text).to.contain('conflicting copy ×2: differs in <bdi>failDescription</bdi>');
    expect(rows[3]?.transition.text).to.contain('after-final');
  });
});

describe('dashboard: the silence form', () => {
  const form = (over: Partial<SilenceForm>): SilenceForm => ({
    ...EMPTY_SILENCE_FORM,
    createdBy: 'alice',
    comment: 'outage',
    duration: '2h',
    ...over,
  });
  const actor = { name: 'dashboard session 1a2b3c4d', via: 'dashboard session 1a2b3c4d', from: '127.0.0.1' };
  const contextOf = (destinations: string[]) => ({ destinations, now: NOW, maxDurationMs: 7 * 86_400_000, actor });
  const problemsOf = (f: SilenceForm, names: string[] = ['ops-slack', 'hook']): string[] => {
    try {
      toNewSilence(f, contextOf(names));
    } catch (err) {
      if (err instanceof SilenceInputError) return err.problems;
      throw err;
    }
    return [];
  };

  it('reads repeated fields as lists, whatever shape the form parser gave them', () => {
    const read = readSilenceForm({
      matchField: ['payType', 'partner'],
      matchValue: { 0: 'failure', 1: 'Acme@skypay' },
      destination: 'hook',
      comment: ['x', 'why'],
      createdBy: 7,
    });
    expect(read).to.deep.include({
      fields: ['payType', 'partner'],
      values: ['failure', 'Acme@skypay'],
      destinations: ['hook'],
      comment: 'why',
      createdBy: '',
    });
  });

  it('makes the silence the admin API would: rows as CLI --match, a duration from the start, destinations', () => {
    const made = toNewSilence(
      form({
        fields: ['payType', 'partner', '', 'partner'],
        values: ['failure', 'Acme@skypay', '', 'Other@skypay'],
        startsAt: '2026-11-27T09:00:00Z',
        destinations: ['hook'],
      }),
      contextOf(['ops-slack', 'hook']),
    );
    expect(made).to.deep.include({
      matchers: { payType: 'failure', partner: ['Acme@skypay', 'Other@skypay'] },
      startsAtMs: Date.parse('2026-11-27T09:00:00Z'),
      endsAtMs: Date.parse('2026-11-27T11:00:00Z'),
      createdBy: 'alice',
      comment: 'outage',
      destinations: ['hook'],
    });
    const json = toNewSilence(
      form({ json: '{"failDescription": {"contains": "timeout"}}', duration: '', endsAt: '2026-11-27T18:00:00+08:00' }),
      contextOf([]),
    );
    expect(json.matchers).to.deep.equal({ failDescription: { contains: 'timeout' } });
    expect(json.destinations).to.equal(null);
  });

  it('lists every problem, each naming its field, without saying one twice', () => {
    expect(problemsOf(form({ fields: ['payType'], values: ['failure'], comment: '  ' }))).to.deep.equal([
      'comment: required, a non-empty string',
    ]);
    expect(problemsOf({ ...EMPTY_SILENCE_FORM })).to.deep.equal([
      'ends at / for: required, when the silence ends (ISO-8601 with a zone) or how long it lasts (2h)',
      'matchers: required, an object like a rule\'s "match" with at least one field',
      'comment: required, a non-empty string',
    ]);
    const many = problemsOf(
      form({
        fields: ['payType', ''],
        values: ['failure', 'lonely'],
        json: '{"partner":',
        duration: 'soon',
        endsAt: '2026-11-27T10:00:00Z',
        destinations: ['pager'],
      }),
    );
    expect(many).to.deep.equal([
      'matcher row 2: give both a field and a value',
      'matchers: give them as field/value rows or as JSON, not both',
      'matchers (JSON): not valid JSON, e.g. {"payType": "failure", "partner": "Acme@skypay"}',
      'ends at / for: give when it ends or how long it lasts, not both',
      'for: expected a duration such as 30s, 15m, 24h, 90d or 2w (got "soon")',
      'destinations: unknown destination "pager" (configured: ops-slack, hook)',
    ]);
    expect(problemsOf(form({ fields: ['payType'], values: ['nope'] }))[0]).to.match(/^matchers: payType: /);
    expect(problemsOf(form({ fields: ['payType'], values: ['failure'], startsAt: '10:00' }))).to.deep.equal([
      'startsAt: expected an ISO-8601 time with a zone',
    ]);
  });
});

describe('dashboard: the nav', () => {
  it('marks the payouts views by their query, and the payout page under Payouts', () => {
    expect(isCurrent('/ui/payouts?view=stuck', '/ui/payouts?view=stuck&partner=x')).to.equal(true);
    expect(isCurrent('/ui/payouts?view=stuck', '/ui/payouts')).to.equal(false);
    expect(isCurrent('/ui/payouts', '/ui/payouts/SK1?partner=A')).to.equal(true);
    const current = (url: string): string[] =>
      [
        ...renderLayout({ title: 't', body: html`` }, { path: url, csrf: 'c' }).matchAll(
          /<a href="([^"]+)"\s+aria-current/g,
        ),
      ].map((m) => m[1] ?? '');
    expect(current('/ui/payouts?anomalies=1')).to.deep.equal(['/ui/payouts?anomalies=1']);
    expect(current('/ui/payouts/SK1')).to.deep.equal(['/ui/payouts']);
    expect(current('/ui/silences')).to.deep.equal(['/ui/silences']);
  });
});

describe('payout page: reconciliation results', () => {
  it('lists what SkyPay said, escaped, with the event a reconciliation created', async () => {
    const detail: PayoutDetail = {
      payout: {
        id: 'pay_1',
        partner: 'Acme@skypay',
        controlNumber: 'SK99123456789',
        state: 'paid',
        final: true,
        firstSeenAt: '2026-11-27T01:00:00.000Z',
        lastSeenAt: '2026-11-27T02:00:00.000Z',
        lastDealTime: '2026-11-27 10:00:00',
        stateSince: '2026-11-27T02:00:00.000Z',
        stuckState: null,
        anomalies: 0,
        confirmation: 'confirmed',
      },
      events: [],
      reconciliations: [
        {
          firstCheckedAt: '2026-11-27T02:00:00.000Z',
          lastCheckedAt: '2026-11-27T02:30:00.000Z',
          checks: 2,
          status: 1,
          statusDesc: 'Completed <b>',
          outcome: 'created',
          detail: 'SkyPay says paid; the missed paid event was created',
          eventId: 'evt_rec1',
        },
      ],
    };
    const store = { getPayouts: () => Promise.resolve([detail]) } as unknown as Parameters<typeof renderPayout>[0];
    const page = await renderPayout(store, 'SK99123456789', {}, Date.parse('2026-11-27T03:00:00Z'));
    const text = page.body.toString();
    expect(text).to.contain('Reconciliation with SkyPay');
    expect(text).to.contain('1 Completed &#60;b&#62;');
    expect(text).to.contain('href="/ui/events/evt_rec1"');
    expect(text).to.contain('created');
  });
});
