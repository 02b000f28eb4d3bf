/**
 * When a group's message is due, Alertmanager's way: the first member of a new group waits `waitMs` for others;
 * once a message went out, later members wait for the next `intervalMs` tick after it. A group whose last message
 * is older than `intervalMs` when a member arrives starts afresh (waits `waitMs`). Pure: no clock, no store.
 */
export interface GroupTiming {
  waitMs: number;
  intervalMs: number;
}

export interface GroupState {
  /** When the oldest member no message carries yet arrived (ms epoch). */
  firstMs: number;
  /** When the group's last message was created, if ever. */
  lastFlushMs: number | undefined;
}

export function groupDueAt(group: GroupState, timing: GroupTiming): number {
  const { firstMs, lastFlushMs } = group;
  if (lastFlushMs !== undefined && firstMs < lastFlushMs + timing.intervalMs) {
    return lastFlushMs + timing.intervalMs;
  }
  return firstMs + timing.waitMs;
}

export function isGroupDue(group: GroupState, timing: GroupTiming, now: number): boolean {
  return groupDueAt(group, timing) <= now;
}
