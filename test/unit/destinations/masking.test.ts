import assert from 'node:assert/strict';
import { assert as assertStruct } from 'superstruct';
import { buildGroupMessage } from '../../../src/alerts/grouping/message';
import { applyMasking, findMaskFieldProblem, maskValue } from '../../../src/destinations/masking';
import { DestinationConfig } from '../../../src/destinations/schema';
import type { PayoutEvent, RelayEvent, SystemEvent } from '../../../src/event';
import { buildAnomalyEvent } from '../../../src/payouts/events';
import { parseEvent, stringifyEvent } from '../../../src/event-json';
import { buildDeadDeliveryEvent, buildPaidEvent, buildPayoutEvent } from '../../support/fixtures';

describe('masking (pure)', () => {
  it('keeps the last 4 characters behind a fixed ****, and hides short values whole', () => {
    assert.equal(maskValue('MLA001041380755361119'), '****1119');
    assert.equal(maskValue('12345'), '****2345');
    assert.equal(maskValue('1234'), '****');
    assert.equal(maskValue(''), '****');
    assert.equal(maskValue(1234567), '****4567');
    assert.equal(maskValue({ nested: 'secret' }), '****');
    assert.equal(maskValue(null), null);
    // Characters, not UTF-16 units: an emoji at the end is not cut in half.
    assert.equal(maskValue('acct-🙂🙂🙂🙂'), '****🙂🙂🙂🙂');
  });

  it('omits and masks payout fields on a copy, leaving the event whole', () => {
    const event = buildPayoutEvent({ referenceNumber: 'MLA001041380755361119' });
    const before = structuredClone(event);
    const out = applyMasking(event, { omit: ['failDescription', 'extra.note'], mask: ['referenceNumber', 'dealTime'] });
    assert.deepEqual(event, before);
    const copy = out as PayoutEvent;
    assert.equal(Object.hasOwn(copy, 'failDescription'), false);
    assert.equal(copy.referenceNumber, '****1119');
    assert.equal(copy.dealTime, '****8:33');
    assert.equal(copy.dealTimeUtc, '****000Z');
    assert.deepEqual(copy.extra, { branchCode: 'MNL-042', retryCount: 2 });
    assert.equal(copy.controlNumber, event.controlNumber);
  });

  it('masks an extra number from the text SkyPay sent, and keeps other extras as sent', () => {
    const sent = buildPayoutEvent({ extra: {} });
    const text = stringifyEvent(sent).replace(
      '"extra":{}',
      '"extra":{"amount":12345678901234567890.123,"big":98765432109876543210}',
    );
    const event = parseEvent(text);
    const out = applyMasking(event, { omit: [], mask: ['extra.amount'] });
    const json = stringifyEvent(out);
    assert.ok(json.includes('"amount":"****.123"'), json);
    assert.ok(json.includes('"big":98765432109876543210'), json);
  });

  it("hides the same names in skyrelay's own events", () => {
    const out = applyMasking(buildDeadDeliveryEvent(), { omit: ['partner'], mask: ['controlNumber'] });
    assert.equal(out.source, 'skyrelay');
    if (out.source === 'skyrelay') assert.equal(out.data['controlNumber'], '****6789');
  });

  it('refuses unknown field names at start, naming the choices', () => {
    assert.equal(findMaskFieldProblem('referenceNumber'), undefined);
    assert.equal(findMaskFieldProblem('extra.accountNumber'), undefined);
    assert.match(
      findMaskFieldProblem('referenceNo') ?? '',
      /unknown field "referenceNo" \(expected one of controlNumber/,
    );
    assert.match(findMaskFieldProblem('status') ?? '', /unknown field "status"/);
    assert.match(findMaskFieldProblem('extra.') ?? '', /unknown field/);
    const config = { type: 'slack', url: 'https://hooks.slack.com/services/T/B/X' };
    assertStruct({ ...config, omit: ['failDescription'], mask: ['extra.account'] }, DestinationConfig);
    assert.throws(() => assertStruct({ ...config, mask: ['referenceNo'] }, DestinationConfig), /referenceNo/);
    assert.throws(
      () => assertStruct({ ...config, omit: ['partner'], mask: ['partner'] }, DestinationConfig),
      /"partner": in both omit and mask/,
    );
  });
});

describe('masking a group message', () => {
  it('hides the masked fields of every member it names, and what the members share', () => {
    const members = Array.from({ length: 25 }, (_, i) =>
      buildPayoutEvent({
        controlNumber: `SK9900000000${String(i).padStart(2, '0')}`,
        failDescription: `bank said no ${i}`,
      }),
    );
    const { event } = buildGroupMessage(
      'ops-slack',
      'failure|Acme@skypay',
      {
        listed: members.slice(0, 20),
        total: 25,
        counts: { failure: 25 },
        rules: ['failures'],
        moreNames: members.slice(20).map((m) => m.controlNumber),
      },
      new Date(),
    );
    const text = JSON.stringify(applyMasking(event, { omit: ['failDescription'], mask: ['controlNumber', 'partner'] }));
    for (const m of members) assert.equal(text.includes(m.controlNumber), false, `${m.controlNumber} shown`);
    assert.equal(text.includes('bank said no'), false);
    assert.equal(text.includes(members[0]?.partner ?? '?'), false);
    assert.match(text, /\*\*\*\*0024/);
    // The message itself is untouched: the store keeps what the group really held.
    assert.equal(JSON.stringify(event).includes(members[0]?.controlNumber ?? '?'), true);
  });
});

describe('masking the prose of events', () => {
  const paid = buildPaidEvent({ controlNumber: 'SKYMKANOM000001', partner: 'Plain@skypay' });
  const failed = buildPayoutEvent({
    controlNumber: 'SKYMKANOM000001',
    partner: 'Plain@skypay',
    dealTime: '2026-11-27 10:00:00',
    dealTimeUtc: '2026-11-27T02:00:00.000Z',
  });
  const anomaly = buildAnomalyEvent(
    failed,
    { from: 'paid', to: 'paid', kind: 'conflict' },
    [
      {
        eventId: paid.id,
        status: 'paid',
        dealTime: '2026-11-27 09:00:00',
        receivedAt: paid.receivedAt,
        kind: 'forward',
      },
      {
        eventId: failed.id,
        status: 'failure',
        dealTime: failed.dealTime,
        receivedAt: failed.receivedAt,
        kind: 'conflict',
      },
    ],
    new Date('2026-11-27T02:00:05Z'),
  );
  const textOf = (event: RelayEvent): string => JSON.stringify(event);

  it('rewrites an anomaly reason from the masked view, and hides the deal times of its timeline', () => {
    const out = applyMasking(anomaly, { omit: [], mask: ['controlNumber', 'partner', 'dealTime'] });
    assert.equal(out.source, 'skyrelay');
    if (out.source !== 'skyrelay') return;
    assert.match(
      String(out.data['reason']),
      /^Payout \*\*\*\*0001 of \*\*\*\*ypay was already paid \(final\) and then got a different final status, failure \(dealTime \*\*\*\*0:00\)\. /,
    );
    for (const value of ['SKYMKANOM000001', 'Plain@skypay', '2026-11-27 10:00:00', '2026-11-27 09:00:00']) {
      assert.equal(textOf(out).includes(value), false, `${value} shown`);
    }
    // The stored event is whole.
    assert.match(String(anomaly.data['reason']), /^Payout SKYMKANOM000001 of Plain@skypay/);
  });

  it('says [omitted] where an omitted value stood in the prose', () => {
    const out = applyMasking(anomaly, { omit: ['controlNumber', 'partner'], mask: [] });
    if (out.source !== 'skyrelay') throw new Error('expected a system event');
    assert.match(String(out.data['reason']), /^Payout \[omitted\] of \[omitted\] was already paid/);
    assert.equal(Object.hasOwn(out.data, 'controlNumber'), false);
  });

  it('hides the values in the prose of any kind of event, in any letter case, even one added later', () => {
    // A kind this module has never heard of, whose prose names the payout and its time in its own words.
    const later: SystemEvent = {
      ...anomaly,
      data: {
        kind: 'same-time',
        controlNumber: 'SKYMKANOM000001',
        partner: 'Plain@skypay',
        dealTime: '2026-11-27 10:00:00',
        payTime: '2026-11-27 10:00:01',
        reason: 'skymkanom000001 (PLAIN@SKYPAY) moved at 2026-11-27 10:00:00; SkyPay says paid at 2026-11-27 10:00:01',
      },
    };
    const text = textOf(applyMasking(later, { omit: [], mask: ['controlNumber', 'partner', 'dealTime'] }));
    for (const value of ['skymkanom000001', 'plain@skypay', '2026-11-27 10:00:0']) {
      assert.equal(text.toLowerCase().includes(value), false, `${value} shown: ${text}`);
    }
    assert.match(text, /\*\*\*\*0001 \(\*\*\*\*ypay\) moved at \*\*\*\*0:00; SkyPay says paid at \*\*\*\*0:01/);
  });

  it("hides a payout's values where its own free text quotes them", () => {
    const event = buildPayoutEvent({
      controlNumber: 'SKYMKANOM000001',
      failDescription: 'payout SKYMKANOM000001 refused',
      extra: { note: 'for SKYMKANOM000001', ids: ['SKYMKANOM000001', 7] },
    });
    const out = applyMasking(event, { omit: [], mask: ['controlNumber'] });
    assert.equal(stringifyEvent(out).includes('SKYMKANOM000001'), false, stringifyEvent(out));
    assert.equal((out as PayoutEvent).failDescription, 'payout ****0001 refused');
    assert.deepEqual((out as PayoutEvent).extra['ids'], ['****0001', 7]);
  });

  it('finds a short value only as a word of its own', () => {
    const event = buildDeadDeliveryEvent({
      data: { partner: 'AB', lastError: 'AB refused: ABC and TAB stay, (ab) goes' },
    });
    const out = applyMasking(event, { omit: [], mask: ['partner'] });
    if (out.source !== 'skyrelay') throw new Error('expected a system event');
    assert.equal(out.data['lastError'], '**** refused: ABC and TAB stay, (****) goes');
  });
});
