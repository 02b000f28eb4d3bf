import type { GroupEvent, GroupMemberLine, RelayEvent } from '../../event';
import { createId } from '../../ids';
import { describeStatusCounts } from '../../destinations/group-present';
import { readGroupKey } from '../../routing/group';
import type { GroupContent } from '../types';
import type { NewDelivery } from '../../delivery/types';

/** How many members a group message lists in full; the rest are counted per status ("and N more"). */
export const GROUP_LISTED = 20;
/** How many more members it names by control number only; beyond that, `skyrelay show` has them. */
export const GROUP_NAMED = 500;

function toLine(event: RelayEvent): GroupMemberLine {
  if (event.source === 'skypay' && event.type === 'payout') {
    return {
      eventId: event.id,
      controlNumber: event.controlNumber,
      partner: event.partner,
      status: event.status,
      dealTime: event.dealTime,
      failDescription: event.failDescription,
      receivedAt: event.receivedAt,
    };
  }
  return {
    eventId: event.id,
    controlNumber: null,
    partner: null,
    status: event.type,
    dealTime: null,
    failDescription: null,
    receivedAt: event.receivedAt,
  };
}

/**
 * The group message: an event of skyrelay's own listing the first GROUP_LISTED members (arrival order) and
 * counting the rest per status, with its one delivery to the group's destination. Pure but for fresh ids.
 */
export function buildGroupMessage(
  destination: string,
  groupKey: string,
  content: GroupContent,
  now: Date,
): { event: GroupEvent; delivery: NewDelivery } {
  const listed = content.listed.slice(0, GROUP_LISTED).map(toLine);
  const moreCounts: Record<string, number> = { ...content.counts };
  for (const line of listed) {
    const status = line.status ?? 'unknown';
    const left = (moreCounts[status] ?? 0) - 1;
    if (left > 0) moreCounts[status] = left;
    else delete moreCounts[status];
  }
  const by = readGroupKey(groupKey);
  const event: GroupEvent = {
    id: createId('evt'),
    source: 'skyrelay',
    type: 'group',
    receivedAt: now.toISOString(),
    data: {
      destination,
      groupKey,
      members: content.total,
      statuses: describeStatusCounts(content.counts),
      ...Object.fromEntries(Object.entries(by).map(([field, value]) => [`by.${field}`, value])),
    },
    group: {
      destination,
      by,
      total: content.total,
      counts: { ...content.counts },
      listed,
      moreCounts,
      moreNames: content.moreNames.slice(0, GROUP_NAMED),
    },
  };
  return { event, delivery: { id: createId('dlv'), destination, rules: content.rules } };
}
