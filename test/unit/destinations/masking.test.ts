import assert from 'node:assert/strict';
import { assert as assertStruct } from 'superstruct';
import { buildGroupMessage } from '../../../src/alerts/grouping/message';
import { applyMasking, findMaskFieldProblem, maskValue } from '../../../src/destinations/masking';
import { DestinationConfig } from '../../../src/destinations/schema';
import type { PayoutEvent } from '../../../src/event';
import { parseEvent, stringifyEvent } from '../../../src/event-json';
import { buildDeadDeliveryEvent, buildPayoutEvent } from '../../support/fixtures';

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
