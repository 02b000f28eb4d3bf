import type { PayoutEvent, RelayEvent } from '../event';
import { parseEvent } from '../event-json';
import { listDifferences } from '../skypay/identity';
import type {
  AttemptView,
  ConflictingCopy,
  DeliveryState,
  DeliveryView,
  FoldedWindow,
  GroupMembership,
  RejectionView,
} from './types';

/**
 * Rows as both drivers return them, turned into the views the Store answers with. One mapping for SQLite and
 * PostgreSQL, so the CLI and admin API cannot tell the stores apart (PostgreSQL's bigint times arrive as strings,
 * SQLite's as numbers: Number() reads both).
 */
export type Row = Record<string, unknown>;

export const iso = (ms: unknown): string => new Date(Number(ms)).toISOString();
export const numOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);
export const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function toRejectionView(r: Row): RejectionView {
  return {
    id: String(r['id']),
    receivedAt: iso(r['received_ms']),
    remoteAddress: strOrNull(r['remote_address']),
    method: String(r['method']),
    path: String(r['path']),
    status: Number(r['status']),
    reason: String(r['reason']),
    partner: strOrNull(r['partner']),
    description: String(r['description']),
    suppressed: Number(r['suppressed'] ?? 0),
  };
}

/** A row of deliveries joined with its event's control number and `source.type` as event_type. */
export function toDeliveryView(r: Row): DeliveryView {
  return {
    id: String(r['id']),
    eventId: String(r['event_id']),
    destination: String(r['destination']),
    rules: JSON.parse(String(r['rules'])) as string[],
    state: r['state'] as DeliveryState,
    attempts: Number(r['attempts']),
    nextAttemptAt: iso(r['next_attempt_ms']),
    createdAt: iso(r['created_ms']),
    updatedAt: iso(r['updated_ms']),
    lastStatus: numOrNull(r['last_status']),
    lastError: strOrNull(r['last_error']),
    controlNumber: strOrNull(r['control_number']),
    eventType: String(r['event_type']),
  };
}

export function toAttemptView(a: Row): AttemptView {
  return {
    attempt: Number(a['attempt']),
    startedAt: iso(a['started_ms']),
    durationMs: Number(a['duration_ms']),
    outcome: String(a['outcome']),
    status: numOrNull(a['status']),
    error: strOrNull(a['error']),
    response: strOrNull(a['response']),
  };
}

/** A conflicting copy of `event`, with the fields in which it differs. */
export function toConflictingCopy(c: Row, event: RelayEvent): ConflictingCopy {
  const copy = parseEvent(String(c['body'])) as PayoutEvent;
  return {
    id: String(c['id']),
    receivedAt: iso(c['received_ms']),
    repeats: Number(c['repeats']),
    differs: event.source === 'skypay' ? listDifferences(event, copy) : [],
    copy,
  };
}

/** A row of alert_windows, as both drivers read it. */
export interface AlertWindowRow {
  reason: string;
  destination: string;
  opened_ms: number;
  folded: number;
  last_status: number | null;
  last_partner: string | null;
  last_remote_address: string | null;
  last_description: string | null;
}

/** A closing window with rejections folded into it: the summary alert it becomes. */
export function toFoldedWindow(row: AlertWindowRow, windowMs: number): FoldedWindow & { destination: string } {
  return {
    destination: row.destination,
    reason: row.reason,
    folded: row.folded,
    windowMs,
    lastStatus: row.last_status,
    lastPartner: row.last_partner,
    lastRemoteAddress: row.last_remote_address,
    lastDescription: row.last_description,
  };
}

/** A row of group_members joined with its message's delivery (delivery_id, state). */
export function toGroupMembership(r: Row): GroupMembership {
  const message = strOrNull(r['message_event_id']);
  return {
    destination: String(r['destination']),
    groupKey: String(r['group_key']),
    rules: JSON.parse(String(r['rules'])) as string[],
    joinedAt: iso(r['created_ms']),
    messageEventId: message,
    deliveryId: strOrNull(r['delivery_id']),
    // Retention may have removed the message (it is newer than its members, so rarely before them).
    state: message === null ? 'waiting' : ((strOrNull(r['state']) as DeliveryState | null) ?? 'pruned'),
  };
}

/** Why replaying an event does not send it to a grouped destination by itself: its group's message does. */
export function describeGroupReplay(destination: string, message: string | null | undefined): string {
  if (message === undefined) return `joined its group for ${destination}: the group's next message carries it`;
  if (message === null) return `waiting in its group for ${destination}`;
  return `carried by group message ${message} to ${destination}: replay that message's delivery`;
}

/** The rule names of several members' `rules` columns (JSON lists), each once, in first-seen order. */
export function unionRules(columns: readonly string[]): string[] {
  const names = new Set<string>();
  for (const column of columns) for (const name of JSON.parse(column) as string[]) names.add(name);
  return [...names];
}
