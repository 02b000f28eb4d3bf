import type { GroupEvent, GroupMemberLine } from '../event';
import { EMPTY_VALUE, formatDealTime, toOneLine } from './present';

/**
 * How a group message reads, shared by Slack and email: a headline with the count per status, what the group
 * has in common (its `by` values), one line per listed member, and "and N more" counted per status.
 */

/** `12 failure, 3 amendedFailure`, largest first (then by name, so the text is stable). */
export function describeStatusCounts(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0))
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
}

/** `15 payout events: 12 failure, 3 amendedFailure`. */
export function describeGroupHeadline(event: GroupEvent): string {
  const { total, counts } = event.group;
  return `${total} payout event${total === 1 ? '' : 's'}: ${describeStatusCounts(counts)}`;
}

/** `payType failure · partner Acme@skypay`: what every member shares. */
export function describeGroupBy(event: GroupEvent): string {
  const parts = Object.entries(event.group.by).map(([field, value]) => `${field} ${value ?? EMPTY_VALUE}`);
  return parts.length === 0 ? EMPTY_VALUE : parts.join(' · ');
}

export interface MemberCells {
  controlNumber: string;
  partner: string;
  status: string;
  dealTime: string;
  failDescription: string;
}

/** One member's cells, each on one line and capped: a failure description is the sender's free text. */
export function describeMember(line: GroupMemberLine, timezone?: string): MemberCells {
  return {
    controlNumber: toOneLine(line.controlNumber ?? line.eventId, 60),
    partner: toOneLine(line.partner ?? EMPTY_VALUE, 60),
    status: line.status ?? EMPTY_VALUE,
    dealTime: line.dealTime === null ? line.receivedAt : formatDealTime(line.dealTime, timezone),
    failDescription: toOneLine(line.failDescription ?? EMPTY_VALUE, 120),
  };
}

/** `and 280 more (270 failure, 10 amendedFailure)`, or undefined when every member is listed. */
export function describeMore(event: GroupEvent): string | undefined {
  const more = event.group.total - event.group.listed.length;
  if (more <= 0) return undefined;
  const counts = describeStatusCounts(event.group.moreCounts);
  return `and ${more} more${counts === '' ? '' : ` (${counts})`}`;
}

/** The control numbers of the members not listed (each on one line, capped), as the message names them. */
export function listMoreNames(event: GroupEvent): string[] {
  return event.group.moreNames.map((name) => toOneLine(name, 60));
}

/** `and 12 more not named here`, when the group had more members than a message names. */
export function describeUnnamed(event: GroupEvent): string | undefined {
  const { total, listed } = event.group;
  const unnamed = total - listed.length - event.group.moreNames.length;
  return unnamed > 0 ? `and ${unnamed} more not named here (skyrelay show <control number> finds each)` : undefined;
}
