import {
  isFinalState,
  type CallbackEvent,
  type PayoutConfirmation,
  type PayoutEvent,
  type PayoutHistoryEntry,
  type PayoutState,
  type RelayEvent,
} from '../event';
import { parseEvent } from '../event-json';
import { sortHistory } from '../payouts/decisions';
import type {
  AttemptView,
  CallbackIdentity,
  ConflictingCopy,
  DeliveryView,
  DestinationActivity,
  EventSummary,
  RejectionDetail,
  RejectionView,
} from './types';
import type { GroupMembership, SilencedRoute } from '../alerts/types';
import type { PayoutView, ReconciliationView } from '../payouts/types';
import type { DeliveryState } from '../delivery/types';
import type { FoldedWindow, NewSilence, SilenceView } from '../alerts/types';
import type { PayoutRecord, ReconciliationOutcome } from '../payouts/types';

/**
 * Rows as both drivers return them, turned into the views the Store answers with. One mapping for SQLite and
 * PostgreSQL, so the CLI and admin API cannot tell the stores apart (PostgreSQL's bigint times arrive as strings,
 * SQLite's as numbers: Number() reads both).
 */
export type { Row } from './sql';
import type { Row } from './sql';

export const iso = (ms: unknown): string => new Date(Number(ms)).toISOString();
export const numOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);
export const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * The partner and control number a listed event names: a callback's columns, or for skyrelay's own events (a
 * payout.anomaly, a dead delivery) the ones their data names (its body as system_body), which have no columns.
 */
function namedPayoutOf(r: Row): Pick<EventSummary, 'partner' | 'controlNumber'> {
  const named = { partner: strOrNull(r['partner']), controlNumber: strOrNull(r['control_number']) };
  if (r['system_body'] == null) return named;
  const event = parseEvent(String(r['system_body']));
  if (event.source !== 'skyrelay') return named;
  const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
  return {
    partner: named.partner ?? text(event.data['partner']),
    controlNumber: named.controlNumber ?? text(event.data['controlNumber']),
  };
}

/** A row of events with its deliveries counted by state (pending, inflight, delivered, dead columns). */
export function toEventSummary(r: Row): EventSummary {
  return {
    id: String(r['id']),
    source: String(r['source']),
    type: String(r['type']),
    ...namedPayoutOf(r),
    payType: numOrNull(r['pay_type']),
    status: strOrNull(r['status']),
    dealTime: strOrNull(r['deal_time']),
    receivedAt: iso(r['received_ms']),
    duplicates: Number(r['duplicates']),
    deliveries: {
      pending: Number(r['pending']),
      inflight: Number(r['inflight']),
      delivered: Number(r['delivered']),
      dead: Number(r['dead']),
    },
  };
}

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

export function toRejectionDetail(r: Row): RejectionDetail {
  return {
    ...toRejectionView(r),
    contentType: strOrNull(r['content_type']),
    contentTypeBytes: r['content_type_bytes'] == null ? null : Number(r['content_type_bytes']),
    body: strOrNull(r['body']),
    bodyBytes: r['body_bytes'] == null ? null : Number(r['body_bytes']),
  };
}

export function toCallbackIdentity(r: Row): CallbackIdentity {
  return {
    partner: String(r['partner']),
    controlNumber: String(r['control_number']),
    payType: Number(r['pay_type']),
    dealTime: String(r['deal_time']),
    eventId: String(r['event_id']),
    receivedAt: iso(r['received_ms']),
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
    heldSince: r['held_since_ms'] == null ? null : iso(r['held_since_ms']),
    payoutSeq: numOrNull(r['payout_seq']),
    waitingFor: strOrNull(r['waiting_for']),
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
export function toConflictingCopy(
  c: Row,
  event: RelayEvent,
  listDifferences: (first: CallbackEvent, copy: CallbackEvent) => string[],
): ConflictingCopy {
  const copy = parseEvent(String(c['body'])) as CallbackEvent;
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

/** The events table's partner, control_number, pay_type, status and deal_time of an event (null where none). */
export function eventColumns(
  event: RelayEvent,
): [string | null, string | null, number | null, string | null, string | null] {
  if (event.source === 'skyrelay') return [null, null, null, null, null];
  // A finance notification names no payout: listings show its transctionDate where a payout shows its dealTime.
  if (event.type === 'finance') return [event.partner, null, null, null, event.transactionDate];
  return [event.partner, event.controlNumber, event.payType, event.status, event.dealTime];
}
export function toSilenceView(r: Row): SilenceView {
  return {
    id: String(r['id']),
    matchers: JSON.parse(String(r['matchers'])) as Record<string, unknown>,
    destinations: r['destinations'] == null ? null : (JSON.parse(String(r['destinations'])) as string[]),
    startsAt: iso(r['starts_ms']),
    endsAt: iso(r['ends_ms']),
    createdBy: String(r['created_by']),
    createdAt: iso(r['created_ms']),
    comment: String(r['comment']),
    expiredBy: strOrNull(r['expired_by']),
    expiredAt: r['expired_ms'] == null ? null : iso(r['expired_ms']),
    createdVia: strOrNull(r['created_via']),
    createdFrom: strOrNull(r['created_from']),
    expiredVia: strOrNull(r['expired_via']),
    expiredFrom: strOrNull(r['expired_from']),
  };
}

export function toSilencedRoute(r: Row): SilencedRoute {
  return {
    destination: String(r['destination']),
    silenceId: String(r['silence_id']),
    rules: JSON.parse(String(r['rules'])) as string[],
  };
}

/** The values of a new silence, in the column order of SILENCE_COLUMNS. */
export function silenceValues(s: NewSilence): unknown[] {
  return [
    s.id,
    JSON.stringify(s.matchers),
    s.destinations === null ? null : JSON.stringify(s.destinations),
    s.startsAtMs,
    s.endsAtMs,
    s.createdBy,
    s.createdAtMs,
    s.comment,
    s.createdVia,
    s.createdFrom,
  ];
}

export const SILENCE_COLUMNS =
  'id, matchers, destinations, starts_ms, ends_ms, created_by, created_ms, comment, created_via, created_from';

export function toPayoutRecord(r: Row): PayoutRecord {
  return {
    id: String(r['id']),
    partner: String(r['partner']),
    controlNumber: String(r['control_number']),
    state: r['state'] as PayoutState,
    firstSeenMs: Number(r['first_seen_ms']),
    lastSeenMs: Number(r['last_seen_ms']),
    lastDealTime: String(r['last_deal_time']),
    stateSinceMs: Number(r['state_since_ms']),
    stuckState: (strOrNull(r['stuck_state']) as PayoutState | null) ?? null,
    anomalies: Number(r['anomalies']),
    confirmation: (strOrNull(r['confirmation']) as PayoutConfirmation | null) ?? 'off',
  };
}

export function toPayoutView(p: PayoutRecord): PayoutView {
  return {
    id: p.id,
    partner: p.partner,
    controlNumber: p.controlNumber,
    state: p.state,
    final: isFinalState(p.state),
    firstSeenAt: iso(p.firstSeenMs),
    lastSeenAt: iso(p.lastSeenMs),
    lastDealTime: p.lastDealTime,
    stateSince: iso(p.stateSinceMs),
    stuckState: p.stuckState,
    anomalies: p.anomalies,
    confirmation: p.confirmation,
  };
}

/** The parameters of a payout row, in the column order of PAYOUT_COLUMNS. */
export function payoutParams(p: PayoutRecord): unknown[] {
  return [
    p.id,
    p.partner,
    p.controlNumber,
    p.state,
    p.firstSeenMs,
    p.lastSeenMs,
    p.lastDealTime,
    p.stateSinceMs,
    p.stuckState,
    p.anomalies,
    p.confirmation,
  ];
}

export const PAYOUT_COLUMNS =
  'id, partner, control_number, state, first_seen_ms, last_seen_ms, last_deal_time, state_since_ms, stuck_state, ' +
  'anomalies, confirmation';

/**
 * A payout's timeline from its events' rows (id, body, received_ms) and its conflicting copies' rows (id, event_id,
 * body, received_ms), ordered by dealTime then received time.
 */
export function toPayoutHistory(events: Row[], copies: Row[]): PayoutHistoryEntry[] {
  const entries: PayoutHistoryEntry[] = [];
  for (const r of events) {
    const e = parseEvent(String(r['body'])) as PayoutEvent;
    entries.push({
      eventId: String(r['id']),
      status: e.status,
      dealTime: e.dealTime,
      receivedAt: iso(r['received_ms']),
      kind: e.transition?.kind ?? null,
    });
  }
  for (const r of copies) {
    const c = parseEvent(String(r['body'])) as PayoutEvent;
    entries.push({
      eventId: String(r['id']),
      status: c.status,
      dealTime: c.dealTime,
      receivedAt: iso(r['received_ms']),
      kind: null,
      copyOf: String(r['event_id']),
    });
  }
  return sortHistory(entries);
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

export const RECONCILIATION_COLUMNS = 'first_ms, last_ms, checks, status, status_desc, outcome, detail, event_id';

/** A reconciliation row (RECONCILIATION_COLUMNS) as a payout's timeline shows it. */
export function toReconciliationView(r: Row): ReconciliationView {
  return {
    firstCheckedAt: new Date(Number(r['first_ms'])).toISOString(),
    lastCheckedAt: new Date(Number(r['last_ms'])).toISOString(),
    checks: Number(r['checks']),
    status: r['status'] === null || r['status'] === undefined ? null : Number(r['status']),
    statusDesc: String(r['status_desc']),
    outcome: r['outcome'] as ReconciliationOutcome,
    detail: String(r['detail']),
    eventId: strOrNull(r['event_id']),
  };
}
