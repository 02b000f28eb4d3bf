import type { ColumnType } from '../../src/store/sql';
import { Client } from 'pg';
import { dedupRules } from '../../src/ingest/dedup';
import type { PayoutEvent, PayoutState, PayStatus, RelayEvent, SystemEvent, Transition } from '../../src/event';
import { stringifyEvent } from '../../src/event-json';
import { migrate as migratePostgres } from '../../src/store/postgres/migrations';
import { migrateSqlite, openSqliteFile } from '../support/sqlite';

/**
 * A store as a daemon that has run for most of a month leaves it, for the benchmark: payouts of a few partners, each
 * with the statuses SkyPay sent (upload, amendments, a final status), their payout rows, SkyPay's confirmations, the
 * anomalies, stuck reports, conflicting copies and dead deliveries skyrelay raised about them, the webhook delivery
 * of every event with its attempts (mostly delivered, some retried, some dead, a few still pending), failures
 * grouped into Slack messages, alerts by email, silences and refused callbacks.
 *
 * Rows are written straight into the tables (a million events through the daemon would take an hour), at schema
 * version SEED_SCHEMA_VERSION, through the shipped migrations: later migrations run over it as an upgrade would, so
 * what they build (indexes, kept counts) they build from these rows. Deterministic: the same count gives the same
 * rows, whatever the store.
 */

/** The schema version the seeded rows are written for; a store migrates from here to its latest on open. */
export const SEED_SCHEMA_VERSION = 14;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
/** Inside every retention window (events 90 days, rejections 30), so nothing is pruned while a bench runs. */
const SPAN_MS = 25 * DAY_MS;
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const SCRAMBLE = 2_654_435_761n;
const ELEVEN_DIGITS = 100_000_000_000n;
const STATUS_OF: Record<number, PayStatus> = {
  1: 'upload',
  2: 'paid',
  3: 'cancel',
  4: 'failure',
  5: 'amendedSuccess',
  6: 'amendedFailure',
};
const STATE_OF: Record<number, PayoutState> = {
  1: 'uploaded',
  2: 'paid',
  3: 'cancelled',
  4: 'failed',
  5: 'amendedSuccess',
  6: 'amendedFailure',
};
const FINAL = new Set([2, 3, 4]);

/** The seeded partners, busiest first, and each one's share of payouts. */
export const SEED_PARTNERS: readonly (readonly [string, number])[] = [
  ['AppName@skypay', 0.55],
  ['Remit@skypay', 0.25],
  ['Acme@skypay', 0.15],
  ['Wallet@skypay', 0.05],
];
/** The destinations the seeded deliveries go to, as the history bench configures them. */
export const SEED_DESTINATIONS = { webhook: 'webhook', slack: 'slack', email: 'email' } as const;

/** A payout's statuses in order (payTypes), with how often the seed gives each lifecycle. */
const LIFECYCLES: readonly (readonly [readonly number[], number, 'anomaly'?])[] = [
  [[1, 2], 0.6],
  [[1, 5, 2], 0.1],
  [[1, 4], 0.1],
  [[1, 3], 0.05],
  [[1, 6, 4], 0.05],
  [[1], 0.07],
  [[1, 5], 0.02],
  [[1, 2, 3], 0.01, 'anomaly'],
];

const REASONS: readonly (readonly [string, number, number])[] = [
  ['unauthenticated', 0.45, 401],
  ['invalid', 0.35, 400],
  ['malformed', 0.1, 400],
  ['too_large', 0.03, 413],
  ['unsupported_media_type', 0.03, 415],
  ['method_not_allowed', 0.02, 405],
  ['body_timeout', 0.01, 408],
  ['busy', 0.005, 503],
  ['encryption_required', 0.005, 400],
];

type Columns = readonly (readonly [string, ColumnType])[];

/** Every table the seed fills, in an order that writes each referenced row before its references. */
export const SEED_TABLES = {
  events: [
    ['id', 'text'],
    ['source', 'text'],
    ['type', 'text'],
    ['partner', 'text'],
    ['control_number', 'text'],
    ['pay_type', 'int'],
    ['status', 'text'],
    ['deal_time', 'text'],
    ['body', 'text'],
    ['received_ms', 'bigint'],
    ['duplicates', 'int'],
    ['last_seen_ms', 'bigint'],
  ],
  deliveries: [
    ['id', 'text'],
    ['event_id', 'text'],
    ['destination', 'text'],
    ['rules', 'text'],
    ['state', 'text'],
    ['attempts', 'int'],
    ['next_attempt_ms', 'bigint'],
    ['created_ms', 'bigint'],
    ['updated_ms', 'bigint'],
    ['last_status', 'int'],
    ['last_error', 'text'],
  ],
  attempts: [
    ['delivery_id', 'text'],
    ['attempt', 'int'],
    ['started_ms', 'bigint'],
    ['duration_ms', 'bigint'],
    ['outcome', 'text'],
    ['status', 'int'],
    ['error', 'text'],
    ['response', 'text'],
  ],
  callback_keys: [
    ['partner', 'text'],
    ['control_number', 'text'],
    ['pay_type', 'int'],
    ['deal_time', 'text'],
    ['event_id', 'text'],
    ['received_ms', 'bigint'],
    ['digest', 'bytea'],
  ],
  callback_copies: [
    ['id', 'text'],
    ['event_id', 'text'],
    ['received_ms', 'bigint'],
    ['body', 'text'],
    ['digest', 'bytea'],
    ['repeats', 'int'],
  ],
  payouts: [
    ['id', 'text'],
    ['partner', 'text'],
    ['control_number', 'text'],
    ['state', 'text'],
    ['first_seen_ms', 'bigint'],
    ['last_seen_ms', 'bigint'],
    ['last_deal_time', 'text'],
    ['state_since_ms', 'bigint'],
    ['stuck_state', 'text'],
    ['anomalies', 'int'],
    ['confirmation', 'text'],
  ],
  payout_reconciliations: [
    ['partner', 'text'],
    ['control_number', 'text'],
    ['first_ms', 'bigint'],
    ['last_ms', 'bigint'],
    ['checks', 'int'],
    ['status', 'int'],
    ['status_desc', 'text'],
    ['outcome', 'text'],
    ['detail', 'text'],
    ['event_id', 'text'],
  ],
  group_members: [
    ['event_id', 'text'],
    ['destination', 'text'],
    ['group_key', 'text'],
    ['rules', 'text'],
    ['created_ms', 'bigint'],
    ['message_event_id', 'text'],
  ],
  group_windows: [
    ['destination', 'text'],
    ['group_key', 'text'],
    ['last_flush_ms', 'bigint'],
  ],
  silences: [
    ['id', 'text'],
    ['matchers', 'text'],
    ['destinations', 'text'],
    ['starts_ms', 'bigint'],
    ['ends_ms', 'bigint'],
    ['created_by', 'text'],
    ['created_ms', 'bigint'],
    ['comment', 'text'],
    ['expired_by', 'text'],
    ['expired_ms', 'bigint'],
    ['created_via', 'text'],
    ['created_from', 'text'],
  ],
  event_silences: [
    ['event_id', 'text'],
    ['destination', 'text'],
    ['silence_id', 'text'],
    ['rules', 'text'],
  ],
  rejections: [
    ['id', 'text'],
    ['received_ms', 'bigint'],
    ['remote_address', 'text'],
    ['method', 'text'],
    ['path', 'text'],
    ['content_type', 'text'],
    ['status', 'int'],
    ['reason', 'text'],
    ['description', 'text'],
    ['partner', 'text'],
    ['body', 'text'],
    ['body_bytes', 'int'],
    ['content_type_bytes', 'int'],
    ['suppressed', 'int'],
  ],
  callback_minutes: [
    ['minute_ms', 'bigint'],
    ['outcome', 'text'],
    ['count', 'bigint'],
  ],
} as const satisfies Record<string, Columns>;

export type SeedTable = keyof typeof SEED_TABLES;
type Emit = (table: SeedTable, row: unknown[]) => void;

/** What a seed holds, for the bench's report and for picking filters that find something. */
export interface SeedSummary {
  events: number;
  payouts: number;
  deliveries: number;
  attempts: number;
  rejections: number;
  /** A control number and an event id of a seeded payout: the detail pages' subjects. */
  sampleControlNumber: string;
  samplePartner: string;
  sampleEventId: string;
}

/** mulberry32: small, fast and the same everywhere. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The daemon's id format (time-sortable, base32), for a given time and a unique counter. */
export function formatId(prefix: string, ms: number, n: number): string {
  let head = '';
  for (let i = 0, t = ms; i < 10; i++, t = Math.floor(t / 32)) head = ALPHABET[t % 32] + head;
  let tail = '';
  for (let i = 0, c = n; i < 16; i++, c = Math.floor(c / 32)) tail = ALPHABET[c % 32] + tail;
  return `${prefix}_${head}${tail}`;
}

function formatDealTime(ms: number): string {
  return new Date(ms + 8 * HOUR_MS).toISOString().slice(0, 19).replace('T', ' ');
}

function pick<T>(r: number, weighted: readonly (readonly [T, number, ...unknown[]])[]): T {
  let acc = 0;
  for (const [value, weight] of weighted) {
    acc += weight;
    if (r < acc) return value;
  }
  return (weighted[weighted.length - 1] as readonly [T, number])[0];
}

/** One Slack group's open window: its message's id is known when the first member joins. */
interface OpenGroup {
  key: string;
  window: number;
  messageId: string;
  messageMs: number;
  members: { eventId: string; controlNumber: string; partner: string; status: string; receivedMs: number }[];
}

/**
 * Emits the rows of a store holding about `targetEvents` events, newest `nowMs`, in chunks of payouts so a writer
 * can commit (or send) as it goes.
 */
class HistoryGenerator {
  private readonly rand = random(20_260_101);
  private readonly payoutCount: number;
  private readonly start: number;
  private n = 0;
  private readonly groups = new Map<string, OpenGroup>();
  /** When each Slack group last sent its message. */
  private readonly lastFlush = new Map<string, number>();
  readonly summary: SeedSummary = {
    events: 0,
    payouts: 0,
    deliveries: 0,
    attempts: 0,
    rejections: 0,
    sampleControlNumber: '',
    samplePartner: '',
    sampleEventId: '',
  };
  private readonly silences: { id: string; startsMs: number; endsMs: number }[] = [];

  constructor(
    private readonly targetEvents: number,
    private readonly nowMs: number,
    private readonly emit: Emit,
  ) {
    // About 3.2 events per payout: its statuses, SkyPay's confirmation, and what skyrelay raised about it.
    this.payoutCount = Math.max(1, Math.round(targetEvents / 3.2));
    this.start = nowMs - SPAN_MS;
  }

  get payouts(): number {
    return this.payoutCount;
  }

  /** Silences first: the events they held back point at them. */
  writeSilences(): void {
    const every = 4 * DAY_MS;
    for (let at = this.start + DAY_MS; at < this.nowMs - DAY_MS; at += every) {
      this.addSilence(at, at + 2 * HOUR_MS, true);
    }
    // One active now, one yet to start: the overview counts the first, the silences page lists both.
    this.addSilence(this.nowMs - HOUR_MS, this.nowMs + 6 * HOUR_MS, false);
    this.addSilence(this.nowMs + DAY_MS, this.nowMs + DAY_MS + HOUR_MS, false);
  }

  private addSilence(startsMs: number, endsMs: number, heldBack: boolean): void {
    const id = formatId('sil', startsMs - HOUR_MS, this.n++);
    if (heldBack) this.silences.push({ id, startsMs, endsMs });
    this.emit('silences', [
      id,
      JSON.stringify({ partner: 'Wallet@skypay' }),
      JSON.stringify([SEED_DESTINATIONS.slack]),
      startsMs,
      endsMs,
      'ops@example.com',
      startsMs - HOUR_MS,
      'Wallet maintenance window: failures expected',
      null,
      null,
      'admin token 3f9a2c1b',
      '198.51.100.7',
    ]);
  }

  /** Payouts [from, to) of payoutCount, in order of their first status. */
  writePayouts(from: number, to: number): void {
    const usable = SPAN_MS - 2 * HOUR_MS;
    for (let i = from; i < to; i++) {
      const t0 = Math.floor(this.start + ((i + this.rand()) * usable) / this.payoutCount);
      this.writePayout(i, t0);
    }
  }

  private writePayout(i: number, t0: number): void {
    this.closeGroups(t0);
    const partner = pick(this.rand(), SEED_PARTNERS);
    const controlNumber = `SK${((BigInt(i + 1) * SCRAMBLE) % ELEVEN_DIGITS).toString().padStart(11, '0')}`;
    const r = this.rand();
    let acc = 0;
    let statuses: readonly number[] = [1];
    let anomaly = false;
    for (const [s, w, kind] of LIFECYCLES) {
      acc += w;
      if (r < acc) {
        statuses = s;
        anomaly = kind === 'anomaly';
        break;
      }
    }
    // Each status some minutes to hours after the one before; only those already received are stored.
    const times: number[] = [t0];
    for (let k = 1; k < statuses.length; k++) {
      times.push((times[k - 1] as number) + Math.floor((5 + this.rand() * 175) * MINUTE_MS));
    }
    const received = statuses
      .map((payType, k) => ({ payType, ms: times[k] as number }))
      .filter((s) => s.ms < this.nowMs);
    const payoutId = formatId('pay', t0, this.n++);
    let state: PayoutState | null = null;
    let stateSince = t0;
    let lastDeal = '';
    let lastSeen = t0;
    let finalMs: number | undefined;
    let anomalies = 0;
    for (const [k, s] of received.entries()) {
      const dealTime = formatDealTime(s.ms - 2_000);
      const before = state;
      let transition: Transition;
      if (before === null) transition = { from: null, to: STATE_OF[s.payType] as PayoutState, kind: 'first' };
      else if (finalMs !== undefined) {
        transition = { from: before, to: before, kind: 'after-final' };
        anomalies += 1;
      } else {
        const to = STATE_OF[s.payType] as PayoutState;
        transition = { from: before, to, kind: s.payType === 5 || s.payType === 6 ? 'amendment' : 'forward' };
      }
      const confirmation = FINAL.has(s.payType) && finalMs === undefined ? 'pending' : 'off';
      const eventId = formatId('evt', s.ms, this.n++);
      const duplicates = this.rand() < 0.03 ? 1 + Math.floor(this.rand() * 2) : 0;
      const event: PayoutEvent = {
        id: eventId,
        source: 'skypay',
        type: 'payout',
        action: 'payoutQueuePayout',
        partner,
        controlNumber,
        payType: s.payType as PayoutEvent['payType'],
        status: STATUS_OF[s.payType] as PayStatus,
        dealTime,
        dealTimeUtc: new Date(s.ms - 2_000).toISOString(),
        failDescription: s.payType === 4 || s.payType === 6 ? 'Beneficiary account closed' : null,
        referenceNumber: s.payType === 2 ? `MLA${controlNumber}` : null,
        extra: {},
        receivedAt: new Date(s.ms).toISOString(),
        duplicates: 0,
        transition,
        confirmation,
      };
      this.writeEvent(event, s.ms, duplicates > 0 ? { duplicates, lastSeenMs: s.ms + 4_000 } : undefined);
      this.emit('callback_keys', [
        partner,
        controlNumber,
        s.payType,
        dealTime,
        eventId,
        s.ms,
        dedupRules.digestContent(event),
      ]);
      if (this.summary.sampleEventId === '' && i > this.payoutCount / 2) {
        this.summary.sampleEventId = eventId;
        this.summary.sampleControlNumber = controlNumber;
        this.summary.samplePartner = partner;
      }
      this.writeDelivery(eventId, SEED_DESTINATIONS.webhook, '["all"]', s.ms, true);
      // Failures go to Slack, grouped by status and partner (or held back by the partner's silence).
      if (s.payType === 4 || s.payType === 6) this.joinGroup(eventId, controlNumber, partner, event.status, s.ms);
      if (k === 1 && this.rand() < 0.005) this.writeConflict(event, s.ms);
      if (transition.kind === 'after-final') {
        this.writeSystem('payout.anomaly', s.ms + 1, {
          kind: 'after-final',
          partner,
          controlNumber,
          status: event.status,
          state: before,
          eventId,
        });
      }
      if (finalMs === undefined) {
        state = transition.to;
        stateSince = s.ms;
      }
      if (FINAL.has(s.payType) && finalMs === undefined) finalMs = s.ms;
      lastDeal = dealTime;
      lastSeen = s.ms;
    }
    // SkyPay's status query confirms a final status some minutes later (or contradicts one, rarely).
    let confirmation: string = finalMs === undefined ? 'off' : 'pending';
    if (finalMs !== undefined) {
      const askedMs = finalMs + Math.floor((5 + this.rand() * 30) * MINUTE_MS);
      if (askedMs < this.nowMs) {
        const contradicted = this.rand() < 0.0005;
        confirmation = contradicted ? 'contradicted' : 'confirmed';
        if (contradicted) anomalies += 1;
        const eventId = this.writeSystem(
          contradicted ? 'payout.anomaly' : 'payout.confirmed',
          askedMs,
          contradicted
            ? { kind: 'unconfirmed', partner, controlNumber, state }
            : { partner, controlNumber, state, confirmation: 'confirmed' },
        );
        this.emit('payout_reconciliations', [
          partner,
          controlNumber,
          askedMs,
          askedMs,
          1,
          contradicted ? 0 : received.find((s) => FINAL.has(s.payType))?.payType,
          contradicted ? 'Processing' : 'Success',
          contradicted ? 'contradiction' : 'confirmed',
          '',
          eventId,
        ]);
      }
    }
    // An upload nobody paid out within 72 h is reported stuck, once.
    let stuckState: string | null = null;
    if (state === 'uploaded' && t0 + 72 * HOUR_MS < this.nowMs) {
      stuckState = 'uploaded';
      this.writeSystem('payout.stuck', t0 + 72 * HOUR_MS + 30_000, {
        partner,
        controlNumber,
        state: 'uploaded',
        stateSince: new Date(t0).toISOString(),
      });
    }
    if (anomaly && anomalies === 0) anomalies = 1;
    this.emit('payouts', [
      payoutId,
      partner,
      controlNumber,
      state,
      t0,
      lastSeen,
      lastDeal,
      stateSince,
      stuckState,
      anomalies,
      confirmation,
    ]);
    this.summary.payouts += 1;
  }

  private writeEvent(event: RelayEvent, ms: number, seen?: { duplicates: number; lastSeenMs: number }): void {
    const columns =
      event.source === 'skypay' && event.type === 'payout'
        ? [event.partner, event.controlNumber, event.payType, event.status, event.dealTime]
        : [null, null, null, null, null];
    this.emit('events', [
      event.id,
      event.source,
      event.type,
      ...columns,
      stringifyEvent(event),
      ms,
      seen?.duplicates ?? 0,
      seen?.lastSeenMs ?? null,
    ]);
    this.summary.events += 1;
  }

  /** An event of skyrelay's own, to the webhook and, for alerts, by email. */
  private writeSystem(type: SystemEvent['type'], ms: number, data: SystemEvent['data']): string {
    const id = formatId('evt', ms, this.n++);
    this.writeEvent({ id, source: 'skyrelay', type, receivedAt: new Date(ms).toISOString(), data }, ms);
    this.writeDelivery(id, SEED_DESTINATIONS.webhook, '["all"]', ms, false);
    if (type === 'payout.anomaly' || type === 'delivery.dead' || type === 'callback.conflict') {
      this.writeDelivery(id, SEED_DESTINATIONS.email, '["alerts"]', ms, false);
    }
    return id;
  }

  /**
   * A delivery with its attempts: delivered at once mostly, after a retry sometimes; for callbacks a few give up
   * (and raise delivery.dead), and in the last hours a flaky consumer left some waiting for their next retry.
   */
  private writeDelivery(eventId: string, destination: string, rules: string, ms: number, mayFail: boolean): void {
    const id = formatId('dlv', ms, this.n++);
    const r = this.rand();
    this.summary.deliveries += 1;
    if (mayFail && r < 0.004 && ms < this.nowMs - 8 * HOUR_MS) {
      let at = ms;
      for (let a = 1; a <= 12; a++) {
        at += Math.min(HOUR_MS, 5_000 * 2 ** (a - 1));
        this.attempt(id, a, at, a === 12 ? 'dead' : 'retry', 503, 'HTTP 503');
      }
      this.emit('deliveries', [id, eventId, destination, rules, 'dead', 12, at, ms, at, 503, 'HTTP 503']);
      this.writeSystem('delivery.dead', at + 1, { destination, deliveryId: id, eventId, attempts: 12 });
      return;
    }
    if (mayFail && ms > this.nowMs - 6 * HOUR_MS && r < 0.024) {
      const attempts = 1 + Math.floor(this.rand() * 4);
      let at = ms;
      for (let a = 1; a <= attempts; a++) {
        at += 5_000 * 2 ** (a - 1);
        this.attempt(id, a, at, 'retry', 502, 'HTTP 502');
      }
      const next = at + 5_000 * 2 ** attempts;
      this.emit('deliveries', [id, eventId, destination, rules, 'pending', attempts, next, ms, at, 502, 'HTTP 502']);
      return;
    }
    if (r < 0.034) {
      this.attempt(id, 1, ms + 3, 'retry', 503, 'HTTP 503');
      this.attempt(id, 2, ms + 5_010, 'delivered', 200, null);
      this.emit('deliveries', [id, eventId, destination, rules, 'delivered', 2, ms + 5_000, ms, ms + 5_020, 200, null]);
      return;
    }
    this.attempt(id, 1, ms + 3, 'delivered', 200, null);
    this.emit('deliveries', [id, eventId, destination, rules, 'delivered', 1, ms, ms, ms + 9, 200, null]);
  }

  private attempt(deliveryId: string, n: number, at: number, outcome: string, status: number, error: string | null) {
    this.summary.attempts += 1;
    this.emit('attempts', [
      deliveryId,
      n,
      at,
      4 + Math.floor(this.rand() * 40),
      outcome,
      status,
      error,
      status === 200 ? 'ok' : 'Service Unavailable',
    ]);
  }

  private writeConflict(event: PayoutEvent, ms: number): void {
    const at = ms + 90_000;
    const id = formatId('cpy', at, this.n++);
    const copy = { ...event, id, referenceNumber: `MLB${event.controlNumber}`, receivedAt: new Date(at).toISOString() };
    this.emit('callback_copies', [id, event.id, at, stringifyEvent(copy), dedupRules.digestContent(copy), 0]);
    this.writeSystem('callback.conflict', at + 1, {
      partner: event.partner,
      controlNumber: event.controlNumber,
      eventId: event.id,
      copyId: id,
      differs: 'referenceNumber',
    });
  }

  /** A failure joins its Slack group (by status and partner, 5-minute windows); its message goes out at the end. */
  private joinGroup(eventId: string, controlNumber: string, partner: string, status: string, ms: number): void {
    const silence = this.silences.find((s) => partner === 'Wallet@skypay' && ms >= s.startsMs && ms < s.endsMs);
    if (silence) {
      this.emit('event_silences', [eventId, SEED_DESTINATIONS.slack, silence.id, '["failures"]']);
      return;
    }
    const key = JSON.stringify({ payType: status, partner });
    const window = Math.floor(ms / (5 * MINUTE_MS));
    let group = this.groups.get(`${key}|${window}`);
    if (!group) {
      const messageMs = (window + 1) * 5 * MINUTE_MS + 30_000;
      group = { key, window, messageId: formatId('evt', messageMs, this.n++), messageMs, members: [] };
      this.groups.set(`${key}|${window}`, group);
    }
    group.members.push({ eventId, controlNumber, partner, status, receivedMs: ms });
    // A window still open now waits for its message: the group flusher's work.
    const waiting = group.messageMs >= this.nowMs;
    this.emit('group_members', [
      eventId,
      SEED_DESTINATIONS.slack,
      key,
      '["failures"]',
      ms,
      waiting ? null : group.messageId,
    ]);
  }

  /**
   * Payouts come in order of their first status and each one's statuses span a few hours at most: a window that
   * ended before `beforeMs` gets no more members.
   */
  private closeGroups(beforeMs: number): void {
    for (const [id, group] of this.groups) {
      if (group.messageMs >= beforeMs) continue;
      this.groups.delete(id);
      this.closeGroup(group);
    }
  }

  private closeGroup(group: OpenGroup): void {
    if (group.messageMs >= this.nowMs) return;
    const key = group.key;
    const by = JSON.parse(key) as Record<string, string>;
    const counts: Record<string, number> = {};
    for (const m of group.members) counts[m.status] = (counts[m.status] ?? 0) + 1;
    const event = {
      id: group.messageId,
      source: 'skyrelay' as const,
      type: 'group' as const,
      receivedAt: new Date(group.messageMs).toISOString(),
      data: {
        destination: SEED_DESTINATIONS.slack,
        groupKey: key,
        members: group.members.length,
        statuses: Object.entries(counts)
          .map(([s, c]) => `${c} ${s}`)
          .join(', '),
        ...Object.fromEntries(Object.entries(by).map(([f, v]) => [`by.${f}`, v])),
      },
      group: {
        destination: SEED_DESTINATIONS.slack,
        by,
        total: group.members.length,
        counts,
        listed: group.members.slice(0, 20).map((m) => ({
          eventId: m.eventId,
          controlNumber: m.controlNumber,
          partner: m.partner,
          status: m.status,
          dealTime: formatDealTime(m.receivedMs - 2_000),
          failDescription: 'Beneficiary account closed',
          receivedAt: new Date(m.receivedMs).toISOString(),
        })),
        moreCounts: {},
        moreNames: [],
      },
    };
    this.writeEvent(event, group.messageMs);
    this.writeDelivery(group.messageId, SEED_DESTINATIONS.slack, '["failures"]', group.messageMs, false);
    this.lastFlush.set(key, Math.max(this.lastFlush.get(key) ?? 0, group.messageMs));
  }

  /** What is left once every payout is written: open groups, refused callbacks, the chart's last hours. */
  finish(): void {
    this.closeGroups(Infinity);
    for (const [key, ms] of this.lastFlush) this.emit('group_windows', [SEED_DESTINATIONS.slack, key, ms]);
    const rejections = Math.round(this.targetEvents / 20);
    const step = SPAN_MS / rejections;
    for (let i = 0; i < rejections; i++) {
      const ms = Math.floor(this.start + (i + this.rand()) * step);
      const reason = pick(this.rand(), REASONS);
      const status = REASONS.find(([name]) => name === reason)?.[2] ?? 400;
      const partner = reason === 'unauthenticated' || reason === 'invalid' ? pick(this.rand(), SEED_PARTNERS) : null;
      this.emit('rejections', [
        formatId('rej', ms, this.n++),
        ms,
        `203.0.113.${1 + Math.floor(this.rand() * 250)}`,
        'POST',
        '/callbacks/skypay',
        'application/json',
        status,
        reason,
        reason === 'unauthenticated' ? 'authentication failed' : `request refused: ${reason.replace(/_/g, ' ')}`,
        partner,
        '{"userName":"AppName@skypay","authentication":"***","controlNumber":"SK0000000000"}',
        84,
        16,
        this.rand() < 0.05 ? Math.floor(this.rand() * 40) : 0,
      ]);
      this.summary.rejections += 1;
    }
    const perMinute = Math.max(1, Math.round(this.targetEvents / (SPAN_MS / MINUTE_MS)));
    const thisMinute = Math.floor(this.nowMs / MINUTE_MS) * MINUTE_MS;
    for (let m = thisMinute - 180 * MINUTE_MS; m < thisMinute; m += MINUTE_MS) {
      this.emit('callback_minutes', [m, 'accepted', perMinute]);
      this.emit('callback_minutes', [m, 'duplicate', Math.ceil(perMinute / 30)]);
      this.emit('callback_minutes', [m, 'rejected', Math.ceil(perMinute / 20)]);
    }
  }
}

const CHUNK_PAYOUTS = 5_000;

/**
 * Seeds the SQLite file at `dbPath` (created) with about `count` events, at SEED_SCHEMA_VERSION. Big transactions
 * and no fsync: a bench fixture, not a store anyone keeps.
 */
export function seedStore(dbPath: string, count: number, report: (done: number) => void): SeedSummary {
  const db = openSqliteFile(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  db.pragma('foreign_keys = OFF');
  migrateSqlite(db, SEED_SCHEMA_VERSION);
  const inserts = new Map(
    Object.entries(SEED_TABLES).map(([table, columns]) => [
      table,
      db.prepare(
        `INSERT INTO ${table} (${columns.map(([c]) => c).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      ),
    ]),
  );
  const generator = new HistoryGenerator(count, Date.now(), (table, row) => inserts.get(table)?.run(...row));
  const inTransaction = db.transaction((work: () => void) => work());
  inTransaction(() => generator.writeSilences());
  for (let from = 0; from < generator.payouts; from += CHUNK_PAYOUTS) {
    inTransaction(() => generator.writePayouts(from, Math.min(generator.payouts, from + CHUNK_PAYOUTS)));
    if ((from / CHUNK_PAYOUTS) % 10 === 9) report(generator.summary.events);
  }
  inTransaction(() => generator.finish());
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return generator.summary;
}

/**
 * The same rows in the PostgreSQL database at `url` (empty; migrated here to SEED_SCHEMA_VERSION), as set-based
 * inserts over unnest of column arrays, a few thousand rows a statement.
 */
export async function seedPostgresStore(
  url: string,
  count: number,
  report: (done: number) => void,
): Promise<SeedSummary> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await migratePostgres(client, SEED_SCHEMA_VERSION);
    // A fixture: nothing here needs to survive a crash of the server.
    await client.query('SET synchronous_commit = off');
    const buffers = new Map<SeedTable, unknown[][]>(Object.keys(SEED_TABLES).map((t) => [t as SeedTable, []]));
    const generator = new HistoryGenerator(count, Date.now(), (table, row) => buffers.get(table)?.push(row));
    const flush = async (): Promise<void> => {
      await client.query('BEGIN');
      for (const [table, rows] of buffers) {
        if (rows.length === 0) continue;
        const columns = SEED_TABLES[table];
        const arrays = columns.map((_, i) => rows.map((row) => row[i] ?? null));
        const unnest = columns.map(([, type], i) => `$${i + 1}::${PG_TYPES[type]}[]`).join(', ');
        await client.query(
          `INSERT INTO ${table} (${columns.map(([c]) => c).join(', ')}) SELECT * FROM unnest(${unnest})`,
          arrays,
        );
        rows.length = 0;
      }
      await client.query('COMMIT');
    };
    generator.writeSilences();
    for (let from = 0; from < generator.payouts; from += CHUNK_PAYOUTS) {
      generator.writePayouts(from, Math.min(generator.payouts, from + CHUNK_PAYOUTS));
      await flush();
      if ((from / CHUNK_PAYOUTS) % 10 === 9) report(generator.summary.events);
    }
    generator.finish();
    await flush();
    // Statistics for the planner now, as autovacuum would give them a little later.
    await client.query('ANALYZE');
    return generator.summary;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const PG_TYPES: Record<ColumnType, string> = {
  text: 'text',
  bigint: 'bigint',
  int: 'int',
  bytea: 'bytea',
  float: 'double precision',
};
