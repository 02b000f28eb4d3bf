/**
 * Pure decisions about groups that the store runs in its transactions: the rules a group message carries, and why a
 * replay leaves a grouped destination to its group (src/store/groups.ts, src/store/replay.ts).
 */

/** The rule names of several members' `rules` columns (JSON lists), each once, in first-seen order. */
export function unionRules(columns: readonly string[]): string[] {
  const names = new Set<string>();
  for (const column of columns) for (const name of JSON.parse(column) as string[]) names.add(name);
  return [...names];
}

/** Why replaying an event does not send it to a grouped destination by itself: its group's message does. */
export function describeGroupReplay(destination: string, message: string | null | undefined): string {
  if (message === undefined) return `joined its group for ${destination}: the group's next message carries it`;
  if (message === null) return `waiting in its group for ${destination}`;
  return `carried by group message ${message} to ${destination}: replay that message's delivery`;
}
