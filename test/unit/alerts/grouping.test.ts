import { expect } from 'chai';
import { GROUP_LISTED, buildGroupMessage } from '../../../src/alerts/grouping/message';
import { groupDueAt, isGroupDue } from '../../../src/alerts/grouping/window';
import { buildPayoutEvent } from '../../support/fixtures';

const timing = { waitMs: 2_000, intervalMs: 5_000 };

describe('group windows (pure)', () => {
  it('a new group waits waitMs from its first member', () => {
    expect(groupDueAt({ firstMs: 10_000, lastFlushMs: undefined }, timing)).to.equal(12_000);
    expect(isGroupDue({ firstMs: 10_000, lastFlushMs: undefined }, timing, 11_999)).to.equal(false);
    expect(isGroupDue({ firstMs: 10_000, lastFlushMs: undefined }, timing, 12_000)).to.equal(true);
  });

  it('members arriving within intervalMs of the last message wait for the next interval, not waitMs', () => {
    // Last message at 12 s: a member at 12.5 s or at 16.9 s goes out at 17 s.
    expect(groupDueAt({ firstMs: 12_500, lastFlushMs: 12_000 }, timing)).to.equal(17_000);
    expect(groupDueAt({ firstMs: 16_900, lastFlushMs: 12_000 }, timing)).to.equal(17_000);
  });

  it('a group quiet for longer than intervalMs starts afresh with waitMs', () => {
    expect(groupDueAt({ firstMs: 17_000, lastFlushMs: 12_000 }, timing)).to.equal(19_000);
    expect(groupDueAt({ firstMs: 60_000, lastFlushMs: 12_000 }, timing)).to.equal(62_000);
  });

  it('a member stored just before a message (committed late) waits for the next interval', () => {
    expect(groupDueAt({ firstMs: 11_000, lastFlushMs: 12_000 }, timing)).to.equal(17_000);
  });

  it('waitMs 0 flushes at once', () => {
    expect(isGroupDue({ firstMs: 5, lastFlushMs: undefined }, { waitMs: 0, intervalMs: 1 }, 5)).to.equal(true);
  });
});

describe('group message (pure)', () => {
  const key = JSON.stringify({ payType: 'failure', partner: 'Acme@skypay' });

  it(`lists the first ${GROUP_LISTED} members and counts the rest per status`, () => {
    const listed = Array.from({ length: GROUP_LISTED }, (_, i) =>
      buildPayoutEvent({ id: `evt_${i}`, controlNumber: `SK${i}`, partner: 'Acme@skypay' }),
    );
    const { event, delivery } = buildGroupMessage(
      'ops-slack',
      key,
      {
        listed,
        total: 25,
        counts: { failure: 23, amendedFailure: 2 },
        rules: ['problems'],
        moreNames: ['SK20', 'SK21'],
      },
      new Date('2026-11-27T08:00:00Z'),
    );
    expect(event).to.include({ source: 'skyrelay', type: 'group', receivedAt: '2026-11-27T08:00:00.000Z' });
    expect(event.group.listed.map((l) => l.controlNumber)).to.deep.equal(listed.map((e) => e.controlNumber));
    expect(event.group.listed[0]).to.deep.include({
      eventId: 'evt_0',
      status: 'failure',
      dealTime: '2018-08-07 11:58:33',
      failDescription: 'Beneficiary account closed & "frozen"',
    });
    expect(event.group.total).to.equal(25);
    expect(event.group.moreCounts).to.deep.equal({ failure: 3, amendedFailure: 2 });
    expect(event.group.moreNames).to.deep.equal(['SK20', 'SK21']);
    expect(event.group.by).to.deep.equal({ payType: 'failure', partner: 'Acme@skypay' });
    expect(event.data).to.deep.include({
      destination: 'ops-slack',
      members: 25,
      statuses: '23 failure, 2 amendedFailure',
      'by.partner': 'Acme@skypay',
    });
    expect(delivery).to.include({ destination: 'ops-slack' });
    expect(delivery.rules).to.deep.equal(['problems']);
    expect(delivery.id).to.match(/^dlv_/);
  });

  it('has nothing more to count when every member is listed', () => {
    const { event } = buildGroupMessage(
      'ops-email',
      key,
      { listed: [buildPayoutEvent()], total: 1, counts: { failure: 1 }, rules: [], moreNames: [] },
      new Date(),
    );
    expect(event.group.moreCounts).to.deep.equal({});
  });
});
