import assert from 'node:assert/strict';
import { SilenceInputError, parseMatchFlags, parseSilence } from '../../../src/alerts/silence-input';
import { applySilences, compileSilence, silenceState, type CompiledSilence } from '../../../src/alerts/silence-match';
import type { RelayEvent } from '../../../src/event';
import type { NewDelivery } from '../../../src/delivery/types';
import type { SilenceView } from '../../../src/alerts/types';
import { buildDeadDeliveryEvent, buildPaidEvent, buildPayoutEvent } from '../../support/fixtures';

const T0 = Date.parse('2026-11-27T10:00:00.000Z');
const HOUR = 3_600_000;
const TYPES: Record<string, string> = { 'ops-slack': 'slack', 'ops-email': 'email', ledger: 'webhook' };
const typeOf = (name: string): string | undefined => TYPES[name];

function view(overrides: Partial<SilenceView> = {}): SilenceView {
  return {
    id: 'sil_1',
    matchers: { payType: 'failure', partner: 'Acme@skypay' },
    destinations: null,
    startsAt: new Date(T0).toISOString(),
    endsAt: new Date(T0 + 2 * HOUR).toISOString(),
    createdBy: 'alice',
    createdAt: new Date(T0).toISOString(),
    comment: 'channel outage',
    expiredBy: null,
    expiredAt: null,
    createdVia: 'admin token 0a1b2c3d',
    createdFrom: '127.0.0.1',
    expiredVia: null,
    expiredFrom: null,
    ...overrides,
  };
}

function compiled(overrides: Partial<SilenceView> = {}): CompiledSilence {
  const silence = compileSilence(view(overrides));
  assert.ok(silence);
  return silence;
}

const planned: NewDelivery[] = [
  { id: 'dlv_s', destination: 'ops-slack', rules: ['problems'] },
  { id: 'dlv_e', destination: 'ops-email', rules: ['problems'] },
  { id: 'dlv_w', destination: 'ledger', rules: ['feed'] },
];
const acmeFailure = buildPayoutEvent({ partner: 'Acme@skypay' });

/** Destination -> silence id (or undefined) for each planned delivery. */
function silencedBy(deliveries: NewDelivery[]): Record<string, string | undefined> {
  return Object.fromEntries(deliveries.map((d) => [d.destination, d.silencedBy]));
}

describe('silence matching (pure)', () => {
  it('holds back Slack and email for a matching event, never the webhook unless named', () => {
    const out = applySilences(acmeFailure, planned, [compiled()], typeOf, T0 + HOUR);
    assert.deepEqual(silencedBy(out), { 'ops-slack': 'sil_1', 'ops-email': 'sil_1', ledger: undefined });
    // The ids and rules of the plan are kept: only the mark is added.
    assert.deepEqual(
      out.map((d) => [d.id, d.rules]),
      planned.map((d) => [d.id, d.rules]),
    );
  });

  it('leaves events that do not match every matcher alone', () => {
    const otherPartner = buildPayoutEvent({ partner: 'Other@skypay' });
    const paid = buildPaidEvent({ partner: 'Acme@skypay' });
    for (const event of [otherPartner, paid]) {
      const out = applySilences(event, planned, [compiled()], typeOf, T0 + HOUR);
      assert.deepEqual(silencedBy(out), { 'ops-slack': undefined, 'ops-email': undefined, ledger: undefined });
    }
  });

  it("uses the rules' matcher syntax: operators, lists and status numbers", () => {
    const silence = compiled({ matchers: { payType: [4, 'amendedFailure'], failDescription: { contains: 'closed' } } });
    const out = applySilences(buildPayoutEvent(), planned, [silence], typeOf, T0 + HOUR);
    assert.equal(silencedBy(out)['ops-slack'], 'sil_1');
    const noMatch = applySilences(buildPayoutEvent({ failDescription: 'timeout' }), planned, [silence], typeOf, T0);
    assert.equal(silencedBy(noMatch)['ops-slack'], undefined);
  });

  it('covers exactly the named destinations when it names any, webhooks included', () => {
    const silence = compiled({ destinations: ['ledger', 'ops-email'] });
    const out = applySilences(acmeFailure, planned, [silence], typeOf, T0 + HOUR);
    assert.deepEqual(silencedBy(out), { 'ops-slack': undefined, 'ops-email': 'sil_1', ledger: 'sil_1' });
  });

  it('is active from startsAt (inclusive) to endsAt (exclusive), and ends early when expired', () => {
    const silence = compiled({ startsAt: new Date(T0 + HOUR).toISOString() });
    const at = (ms: number) => silencedBy(applySilences(acmeFailure, planned, [silence], typeOf, ms))['ops-slack'];
    assert.equal(at(T0 + HOUR - 1), undefined);
    assert.equal(at(T0 + HOUR), 'sil_1');
    assert.equal(at(T0 + 2 * HOUR - 1), 'sil_1');
    assert.equal(at(T0 + 2 * HOUR), undefined);
    const expired = compiled({ expiredAt: new Date(T0 + 30 * 60_000).toISOString(), expiredBy: 'bob' });
    const atExpired = (ms: number) =>
      silencedBy(applySilences(acmeFailure, planned, [expired], typeOf, ms))['ops-slack'];
    assert.equal(atExpired(T0 + 29 * 60_000), 'sil_1');
    assert.equal(atExpired(T0 + 30 * 60_000), undefined);
  });

  it("reaches skyrelay's own events only when its matchers name source or type, as rules do", () => {
    const dead = buildDeadDeliveryEvent({ data: { destination: 'ledger', controlNumber: 'SK99123456789' } });
    const byControlNumber = compiled({ matchers: { controlNumber: 'SK99123456789' } });
    const byType = compiled({ matchers: { type: 'delivery.dead' } });
    assert.equal(silencedBy(applySilences(dead, planned, [byControlNumber], typeOf, T0))['ops-slack'], undefined);
    assert.equal(silencedBy(applySilences(dead, planned, [byType], typeOf, T0))['ops-slack'], 'sil_1');
  });

  it("never holds back skyrelay's health alerts, whatever a stored silence says", () => {
    const everything = compiled({ matchers: { type: { regex: '.' } } });
    for (const type of ['database.lost', 'destination.unhealthy'] as const) {
      const health = { ...buildDeadDeliveryEvent(), type } as unknown as RelayEvent;
      const byName = compileSilence(view({ matchers: { type } }));
      const silencers = [everything, ...(byName ? [byName] : [])];
      const held = applySilences(health, planned, silencers, typeOf, T0).filter((d) => d.silencedBy !== undefined);
      assert.deepEqual(held, [], type);
    }
    assert.equal(
      silencedBy(applySilences(buildDeadDeliveryEvent(), planned, [everything], typeOf, T0))['ops-slack'],
      'sil_1',
    );
  });

  it('ignores a stored silence whose matchers no longer validate', () => {
    assert.equal(compileSilence(view({ matchers: { payType: 'nonsense' } })), undefined);
    assert.equal(compileSilence(view({ matchers: {} })), undefined);
    // Stored before field names were checked: a typo that matched every event is now ignored.
    assert.equal(compileSilence(view({ matchers: { payTyp: { exists: false } } })), undefined);
    assert.equal(compileSilence(view({ matchers: { failDescription: { regex: '(?=x)' } } })), undefined);
  });

  it('says pending, active or expired', () => {
    const v = view({ startsAt: new Date(T0 + HOUR).toISOString() });
    assert.equal(silenceState(v, T0), 'pending');
    assert.equal(silenceState(v, T0 + HOUR), 'active');
    assert.equal(silenceState(v, T0 + 2 * HOUR), 'expired');
    assert.equal(silenceState({ ...v, expiredAt: new Date(T0).toISOString(), expiredBy: 'bob' }, T0 + HOUR), 'expired');
  });
});

describe('silence input (pure)', () => {
  const names = ['ops-slack', 'ops-email', 'ledger'];
  const actor = { name: 'admin token 0a1b2c3d', via: 'admin token 0a1b2c3d', from: '10.0.0.7' };
  const context = { destinations: names, now: T0, maxDurationMs: 7 * 24 * HOUR, actor };
  const valid = {
    matchers: { payType: 'failure' },
    endsAt: '2026-11-27T12:00:00Z',
    createdBy: 'alice',
    comment: 'channel outage, ticket 123',
  };

  it('makes a silence starting now by default', () => {
    const s = parseSilence(valid, context);
    assert.match(s.id, /^sil_[0-9a-z]{26}$/);
    assert.deepEqual(
      { ...s, id: undefined },
      {
        id: undefined,
        matchers: { payType: 'failure' },
        destinations: null,
        startsAtMs: T0,
        endsAtMs: T0 + 2 * HOUR,
        createdBy: 'alice',
        createdAtMs: T0,
        comment: 'channel outage, ticket 123',
        createdVia: 'admin token 0a1b2c3d',
        createdFrom: '10.0.0.7',
      },
    );
  });

  it('names its maker from the credential when no name is typed, and records the credential beside a typed one', () => {
    const { createdBy: _typed, ...unnamed } = valid;
    assert.deepEqual(pick(parseSilence(unnamed, context), ['createdBy', 'createdVia', 'createdFrom']), {
      createdBy: 'admin token 0a1b2c3d',
      createdVia: 'admin token 0a1b2c3d',
      createdFrom: '10.0.0.7',
    });
    const cli = { name: 'alice', via: 'cli as OS user alice on db1', from: null };
    assert.deepEqual(
      pick(parseSilence({ ...valid, createdBy: 'the CEO' }, { ...context, actor: cli }), [
        'createdBy',
        'createdVia',
        'createdFrom',
      ]),
      { createdBy: 'the CEO', createdVia: 'cli as OS user alice on db1', createdFrom: null },
    );
  });

  function pick(o: object, keys: string[]): Record<string, unknown> {
    return Object.fromEntries(Object.entries(o).filter(([k]) => keys.includes(k)));
  }

  function problemsOf(body: unknown): string[] {
    try {
      parseSilence(body, context);
    } catch (err) {
      assert.ok(err instanceof SilenceInputError);
      return err.problems;
    }
    return [];
  }

  it('names every missing required field', () => {
    assert.deepEqual(problemsOf({}), [
      'matchers: required, an object like a rule\'s "match" with at least one field',
      'endsAt: required, expected an ISO-8601 time with a zone',
      'comment: required, a non-empty string',
    ]);
    assert.deepEqual(problemsOf([]), ['body: expected a JSON object']);
  });

  it('refuses bad matchers, times and destinations with messages naming the field', () => {
    assert.deepEqual(problemsOf({ ...valid, matchers: { payType: 'nonsense' } }), [
      'matchers: payType: unknown status "nonsense" (expected one of upload, paid, cancel, failure, amendedSuccess, amendedFailure or a number 1-6)',
    ]);
    assert.deepEqual(problemsOf({ ...valid, matchers: { failDescription: { regex: '(' } } }), [
      'matchers.failDescription: invalid regex "(": missing closing ): `(` (RE2 syntax: no lookaround or backreferences, so matching stays linear in time)',
    ]);
    assert.deepEqual(problemsOf({ ...valid, endsAt: '2026-11-27 12:00' }), [
      'endsAt: expected an ISO-8601 time with a zone',
    ]);
    assert.deepEqual(problemsOf({ ...valid, startsAt: '2026-11-27T13:00:00Z' }), ['endsAt: must be after startsAt']);
    assert.deepEqual(problemsOf({ ...valid, endsAt: '2026-11-27T09:00:00Z', startsAt: '2026-11-27T08:00:00Z' }), [
      'endsAt: must be in the future',
    ]);
    assert.deepEqual(problemsOf({ ...valid, destinations: ['nope'] }), [
      'destinations: unknown destination "nope" (configured: ops-slack, ops-email, ledger)',
    ]);
    assert.deepEqual(problemsOf({ ...valid, comment: 'x'.repeat(2001), surprise: 1 }), [
      '"surprise": unknown field (expected matchers, startsAt, endsAt, createdBy, comment, destinations, force)',
      'comment: at most 2000 characters',
    ]);
  });

  it('refuses a field no event has, naming it, as a rule at start would be refused', () => {
    const [problem] = problemsOf({ ...valid, matchers: { payTyp: { exists: false } } });
    assert.match(problem ?? '', /^matchers: payTyp: unknown field \(did you mean "payType"\?\)/);
    assert.match(problem ?? '', /extra\.<name> for a field SkyPay sends/);
    assert.deepEqual(problemsOf({ ...valid, matchers: { 'extra.channel': 'ML', payType: 'failure' } }), []);
  });

  it('refuses matchers that match every event of a kind unless forced', () => {
    const everyPayout =
      /^matchers: would match every payout event( and every finance notification)?, whatever it holds; .*"force": true/;
    for (const matchers of [
      { payType: { regex: '' } },
      { payType: { exists: true } },
      { payType: ['upload', 'paid', 'cancel', 'failure', 'amendedSuccess', 'amendedFailure'] },
      { partner: { prefix: '' } },
      { controlNumber: { regex: 'x*' } },
      { failDescription: { not: { contains: 'timeout' } } },
      { 'extra.channel': { exists: false } },
      { type: 'payout' },
    ]) {
      assert.match(problemsOf({ ...valid, matchers }).join('\n'), everyPayout, JSON.stringify(matchers));
      assert.deepEqual(problemsOf({ ...valid, matchers, force: true }), [], JSON.stringify(matchers));
    }
    assert.match(
      problemsOf({ ...valid, matchers: { type: { regex: '.' } } }).join('\n'),
      /would match every payout event and every finance notification and every one of skyrelay's own alerts/,
    );
    assert.match(problemsOf({ ...valid, matchers: { source: 'skyrelay' } }).join('\n'), /every one of skyrelay's own/);
    assert.match(problemsOf({ ...valid, matchers: { signType: ['recharge', 'reduce'] } }).join('\n'), /every finance/);
    // A finance notification has no payType, so "not paid" holds for every one of them.
    assert.match(
      problemsOf({ ...valid, matchers: { payType: { not: 'paid' } } }).join('\n'),
      /^matchers: would match every finance notification,/,
    );
    assert.deepEqual(problemsOf({ ...valid, force: 'yes' }), ['force: expected true or false']);
  });

  it('accepts everyday silences: a status, a partner, a text, a kind of alert', () => {
    for (const matchers of [
      { payType: 'failure' },
      { status: ['failure', 'cancel'] },
      { type: 'payout', payType: { not: 'paid' } },
      { partner: 'Acme@skypay' },
      { failDescription: { contains: 'timeout' } },
      { failDescription: { regex: '(?i)insufficient' } },
      { failDescription: { exists: true } },
      { controlNumber: { prefix: 'SKY' } },
      { 'extra.channel': 'ML' },
      { type: 'payout.stuck' },
      { type: ['rejection', 'delivery.dead'] },
      { statementType: 6 },
    ]) {
      assert.deepEqual(problemsOf({ ...valid, matchers }), [], JSON.stringify(matchers));
    }
  });

  it("refuses a silence of skyrelay's health alerts, forced or not", () => {
    const health = /^matchers\.type: .*names skyrelay's own health alerts \(database\.lost, destination\.\*\)/;
    assert.match(problemsOf({ ...valid, matchers: { type: 'database.lost' } }).join('\n'), health);
    assert.match(problemsOf({ ...valid, matchers: { type: 'database.lost' }, force: true }).join('\n'), health);
    assert.match(problemsOf({ ...valid, matchers: { type: ['payout.stuck', 'database.lost'] } }).join('\n'), health);
    assert.match(problemsOf({ ...valid, matchers: { type: { prefix: 'database.' } } }).join('\n'), health);
  });

  it('caps how long a silence lasts (silences.maxDurationMs)', () => {
    assert.deepEqual(problemsOf({ ...valid, endsAt: '9999-12-31T00:00:00Z' }), [
      'endsAt: at most 7 days after startsAt (silences.maxDurationMs); make a new silence if the outage outlasts it',
    ]);
    const weekLater = new Date(T0 + 7 * 24 * HOUR).toISOString();
    assert.deepEqual(problemsOf({ ...valid, endsAt: weekLater }), []);
    const startsLater = new Date(T0 + 30 * 24 * HOUR).toISOString();
    const endsLater = new Date(T0 + 31 * 24 * HOUR).toISOString();
    assert.deepEqual(problemsOf({ ...valid, startsAt: startsLater, endsAt: endsLater }), []);
  });

  it('reads --match flags: text, JSON operators, and a repeated field as any of', () => {
    assert.deepEqual(
      parseMatchFlags([
        'payType=failure',
        'partner=Acme@skypay',
        'payType=amendedFailure',
        'failDescription={"contains":"x=y"}',
      ]),
      { payType: ['failure', 'amendedFailure'], partner: 'Acme@skypay', failDescription: { contains: 'x=y' } },
    );
    assert.throws(() => parseMatchFlags(['payType']), /expected FIELD=VALUE/);
    assert.throws(() => parseMatchFlags(['x={oops']), /must be JSON/);
  });
});
