import {
  STATEMENT_TYPES,
  type FinanceEvent,
  type PayStatus,
  type PayoutEvent,
  type PayoutHistoryEntry,
  type RelayEvent,
  type SystemEvent,
} from '../event';
import { extraText } from '../event-json';
import { stripBidiControls } from '../bidi';

/**
 * How events read to people, shared by Slack and email so both say the same
 * thing in the same words.
 */

export const PAYOUT_HEADLINES: Readonly<Record<PayStatus, string>> = {
  upload: 'Payout uploaded',
  paid: 'Payout paid',
  cancel: 'Payout cancelled',
  failure: 'Payout failed',
  amendedSuccess: 'Payout amended',
  amendedFailure: 'Payout amendment failed',
};

export const SYSTEM_HEADLINES: Readonly<Record<SystemEvent['type'], string>> = {
  rejection: 'skyrelay refused a callback',
  'delivery.dead': 'skyrelay delivery dead',
  'callback.conflict': 'skyrelay kept a conflicting callback copy',
  'database.lost': 'skyrelay database file lost',
  'destination.unhealthy': 'Destination unhealthy: deliveries to it wait, none is dropped',
  'destination.recovered': 'Destination recovered: its waiting deliveries are being sent',
  // Every kind (after-final, conflict, same-time, unconfirmed, reconciliation, out-of-window): its reason says which.
  'payout.anomaly': 'Payout anomaly: check the payout with SkyPay before acting on it',
  'payout.stuck': 'Payout stuck: no final status in time',
  'payout.unstuck': 'Payout no longer stuck: final status received',
  'payout.confirmed': "Payout confirmed: SkyPay's status query agrees with its final status",
  'ledger.daily': 'Daily ledger',
  group: 'Grouped payout events',
};

/** Shown for missing values, so an empty cell reads as "nothing" rather than a glitch. */
export const EMPTY_VALUE = '—';

export function describeHeadline(event: RelayEvent): string {
  if (event.source === 'skyrelay' && event.type === 'ledger.daily') return describeLedgerHeadline(event);
  if (event.source === 'skyrelay') return SYSTEM_HEADLINES[event.type];
  if (event.type === 'finance') return `${FINANCE_HEADLINES[event.signType]}: ${STATEMENT_TYPES[event.statementType]}`;
  return PAYOUT_HEADLINES[event.status];
}

/** signType: `recharge` is a credit to the account, `reduce` a debit. */
export const FINANCE_HEADLINES: Readonly<Record<FinanceEvent['signType'], string>> = {
  recharge: 'Account credited',
  reduce: 'Account debited',
};

/**
 * The amount exactly as SkyPay sent it, with its currency: whether 12000000 PHP means pesos or centavos is not
 * documented, so skyrelay neither scales nor formats it.
 */
export function formatAmount(event: FinanceEvent): string {
  return `${event.amount} ${event.currency}`;
}

/** `amendedFailure` -> `amended failure`. */
export function spellStatus(status: PayStatus): string {
  return status.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** SkyPay's own clock, when skypay.timezone is not passed on. */
export const SKYPAY_TIMEZONE = '+08:00';

/**
 * SkyPay sends deal times as wall-clock text in skypay.timezone; say which,
 * since readers are not all there: "+08:00" reads "GMT+8", "+05:30" "GMT+5:30".
 */
export function formatDealTime(dealTime: string, timezone: string = SKYPAY_TIMEZONE): string {
  return `${dealTime} ${describeTimezone(timezone)}`;
}

export function describeTimezone(timezone: string): string {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(timezone);
  if (!m) return timezone;
  const sign = m[1] ?? '+';
  const hours = Number(m[2]);
  const minutes = m[3] ?? '00';
  if (hours === 0 && minutes === '00') return 'GMT';
  return `GMT${sign}${hours}${minutes === '00' ? '' : `:${minutes}`}`;
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return EMPTY_VALUE;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every(isHistoryEntry)) return formatHistory(value);
  return JSON.stringify(value) ?? EMPTY_VALUE;
}

function isHistoryEntry(value: unknown): value is PayoutHistoryEntry {
  return typeof value === 'object' && value !== null && 'status' in value && 'dealTime' in value;
}

/** A payout's timeline, one status a line, as people read it in Slack and mail. */
export function formatHistory(history: readonly PayoutHistoryEntry[]): string {
  if (history.length === 0) return EMPTY_VALUE;
  return history
    .map((h) => {
      const kind = h.copyOf === undefined ? (h.kind ?? 'before payouts were kept') : `conflicting copy of ${h.copyOf}`;
      return `${h.status} dealTime ${h.dealTime}, received ${h.receivedAt} (${kind})`;
    })
    .join('\n');
}

// `differs`: what a callback.conflict is about (which fields a copy changed).
const REASON_KEYS = ['reason', 'error', 'lastError', 'message', 'differs'] as const;

/** The one-line "why" of a system event, for subjects and fallbacks. */
export function describeReason(event: SystemEvent): string | undefined {
  for (const key of REASON_KEYS) {
    const value = event.data[key];
    if (value !== undefined && value !== null && value !== '') return String(value);
  }
  return undefined;
}

export type Field = readonly [label: string, value: string];

/** The fields a person needs to act on a payout, in the order they look for them. */
export function listKeyPayoutFields(event: PayoutEvent, timezone: string = SKYPAY_TIMEZONE): Field[] {
  const fields: [string, unknown, string][] = [
    ['Control number', event.controlNumber, formatValue(event.controlNumber)],
    ['Partner', event.partner, formatValue(event.partner)],
    ['Deal time', event.dealTime, formatDealTime(event.dealTime, timezone)],
    ['Reference number', event.referenceNumber, formatValue(event.referenceNumber)],
    ['Failure description', event.failDescription, formatValue(event.failDescription)],
  ];
  return fields.filter(([, value]) => !isOmitted(value)).map(([label, , shown]): Field => [label, shown]);
}

/**
 * A field a destination omits (see masking.ts) is absent from the event it is handed: no row for it, where a field
 * SkyPay left empty (null) still shows as "—".
 */
function isOmitted(value: unknown): boolean {
  return value === undefined;
}

/** The fields a person needs to understand a finance notification, in the order they look for them. */
export function listKeyFinanceFields(event: FinanceEvent, timezone: string = SKYPAY_TIMEZONE): Field[] {
  return [
    ['Amount', formatAmount(event)],
    ['Direction', event.signType === 'recharge' ? 'recharge (credit)' : 'reduce (debit)'],
    ['Statement', `${event.statementType}: ${STATEMENT_TYPES[event.statementType]}`],
    ['Account number', event.accountNo],
    ['Reference number', event.referenceNumber],
    ['Partner', event.partner],
    ['Transaction time', formatDealTime(event.transactionDate, timezone)],
    ['Source account', formatValue(event.sourceAccountNo)],
    ['Beneficiary account', formatValue(event.beneficiaryAccountNo)],
  ];
}

/** Every field of the event, including SkyPay's undocumented extras, for the full record in mail. */
export function listAllFields(event: RelayEvent, timezone: string = SKYPAY_TIMEZONE): Field[] {
  if (event.source === 'skyrelay') {
    return [
      ['Event id', event.id],
      ['Type', `skyrelay ${event.type}`],
      ['Received at', event.receivedAt],
      ...Object.entries(event.data).map(([key, value]): Field => [key, formatValue(value)]),
    ];
  }
  const documented: Field[] =
    event.type === 'finance'
      ? [
          ...listKeyFinanceFields(event, timezone),
          ['Company', `${formatValue(event.companyName)} (${formatValue(event.companyPrefix)})`],
          ['Action', event.action],
          ['Transaction time (UTC)', event.transactionDateUtc],
        ]
      : [
          ...listKeyPayoutFields(event, timezone),
          ['Status', `${event.status} (pay type ${event.payType})`],
          ['Action', formatValue(event.action)],
          ...(isOmitted(event.dealTimeUtc) ? [] : [['Deal time (UTC)', event.dealTimeUtc] as const]),
        ];
  return [
    ...documented,
    ['Event id', event.id],
    ['Event type', `${event.source} ${event.type}`],
    ['Received at', event.receivedAt],
    ['Duplicate callbacks', String(event.duplicates)],
    // Numbers and structures as SkyPay wrote them: String() would round a long amount.
    ...Object.entries(event.extra).map(([key, value]): Field => [
      `Extra: ${key}`,
      typeof value === 'string' ? formatValue(value) : (extraText(event.extra, key) ?? EMPTY_VALUE),
    ]),
  ];
}

/**
 * Collapses whitespace and caps length, for one-line places like subjects and headers; drops bidirectional
 * controls, which would reorder the rest of the line.
 */
export function toOneLine(text: string, maxChars: number): string {
  const line = stripBidiControls(text).replace(/\s+/g, ' ').trim();
  return line.length <= maxChars ? line : `${line.slice(0, maxChars - 1)}…`;
}

/**
 * The event's page on the dashboard (ui.publicUrl + /ui/events/<id>), or undefined when no public URL is set. Our
 * ids are plain; anything else is percent-encoded, so the link cannot carry markup or a second path.
 */
export function eventPageUrl(publicUrl: string | undefined, eventId: string): string | undefined {
  if (publicUrl === undefined) return undefined;
  return `${publicUrl.replace(/\/+$/, '')}/ui/events/${encodeURIComponent(eventId)}`;
}

/** `Ledger 2026-12-01: balanced` / `Ledger 2026-12-01: NOT balanced, 2 unexplained`. */
function describeLedgerHeadline(event: SystemEvent): string {
  const { day, balanced, unexplained } = event.data;
  const verdict = balanced === true ? 'balanced' : `NOT balanced, ${formatValue(unexplained)} unexplained`;
  return `Ledger ${formatValue(day)}: ${verdict}`;
}

/** What the daily summary's short table always shows, then what it shows only when not 0. */
const LEDGER_ROWS: readonly (readonly [key: string, label: string])[] = [
  ['accepted', 'Callbacks accepted'],
  ['events', 'Events'],
  ['routes', 'Routes'],
  ['delivered', 'Delivered'],
  ['deliveredInGroup', 'Delivered in a group'],
  ['silenced', 'Silenced'],
];
const LEDGER_PROBLEMS: readonly (readonly [key: string, label: string])[] = [
  ['unexplained', 'Unexplained'],
  ['dead', 'Dead'],
  ['pending', 'Pending'],
  ['stuck', 'Stuck payouts'],
  ['contradicted', 'Contradicted by SkyPay'],
];

/** skyrelay.ledger.daily as a short table: the day and its balance, the totals, and any problem that is not 0. */
export function listLedgerRows(event: SystemEvent): Field[] {
  const { data } = event;
  const day = `${formatValue(data['day'])} (${describeTimezone(String(data['timezone'] ?? SKYPAY_TIMEZONE))})`;
  return [
    ['Day', day],
    ['Balanced', data['balanced'] === true ? 'yes' : 'NO'],
    ...LEDGER_ROWS.map(([key, label]): Field => [label, formatValue(data[key])]),
    ...LEDGER_PROBLEMS.filter(([key]) => typeof data[key] === 'number' && data[key] !== 0).map(
      ([key, label]): Field => [label, formatValue(data[key])],
    ),
  ];
}

export function isLedgerDaily(event: RelayEvent): event is SystemEvent & { type: 'ledger.daily' } {
  return event.source === 'skyrelay' && event.type === 'ledger.daily';
}

/** The day's Ledger page on the dashboard (ui.publicUrl + /ui/ledger?day=), or undefined without a public URL. */
export function ledgerPageUrl(publicUrl: string | undefined, event: SystemEvent): string | undefined {
  if (publicUrl === undefined || typeof event.data['day'] !== 'string') return undefined;
  return `${publicUrl.replace(/\/+$/, '')}/ui/ledger?day=${encodeURIComponent(event.data['day'])}`;
}
