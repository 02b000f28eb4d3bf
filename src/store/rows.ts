import type { PayoutEvent, RelayEvent } from '../event';
import { parseEvent } from '../event-json';
import { listDifferences } from '../skypay/identity';
import type {
  AttemptView,
  ConflictingCopy,
  DeliveryState,
  DeliveryView,
  DestinationActivity,
  FoldedWindow,
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

/** Last successes and last failures (each driver's SQL gives the same columns) to one row per destination, by name. */
export function toDestinationActivity(successes: Row[], failures: Row[]): DestinationActivity[] {
  const byName = new Map<string, DestinationActivity>();
  const entry = (destination: string): DestinationActivity => {
    let found = byName.get(destination);
    if (!found) {
      found = { destination, lastSuccessAt: null, lastErrorAt: null, lastErrorStatus: null, lastError: null };
      byName.set(destination, found);
    }
    return found;
  };
  for (const r of successes) entry(String(r['destination'])).lastSuccessAt = iso(r['at']);
  for (const r of failures) {
    Object.assign(entry(String(r['destination'])), {
      lastErrorAt: iso(r['started_ms']),
      lastErrorStatus: numOrNull(r['status']),
      lastError: strOrNull(r['error']),
    });
  }
  return [...byName.values()].sort((x, y) => x.destination.localeCompare(y.destination));
}
