import addressparser from 'nodemailer/lib/addressparser';
import { stripBidiControls } from '../bidi';
import { isGroupEvent, type GroupEvent, type RelayEvent, type SystemEvent } from '../event';
import {
  describeGroupBy,
  describeGroupHeadline,
  describeMember,
  describeMore,
  describeUnnamed,
  listMoreNames,
} from './group-present';
import {
  describeHeadline,
  describeReason,
  eventPageUrl,
  formatAmount,
  formatValue,
  isLedgerDaily,
  ledgerPageUrl,
  listAllFields,
  listLedgerRows,
  spellStatus,
  toOneLine,
} from './present';
import type { Field } from './present';

/** What a person reads in the mail; built apart from sending so it can be checked alone. */
export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export interface EmailContext {
  deliveryId: string;
  rules: readonly string[];
  subjectPrefix: string;
  /** skypay.timezone, the clock of the deal time shown. */
  timezone?: string | undefined;
  /** ui.publicUrl: the mail links to the event's dashboard page. */
  publicUrl?: string | undefined;
}

const SUBJECT_MAX = 200;

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * A value in the HTML part: escaped, and isolated in `<bdi>` so right-to-left text cannot reorder the words around
 * it. The bidirectional controls themselves are stripped from the whole message (see finish): not every mail
 * client honours `<bdi>`.
 */
function isolate(text: string): string {
  return text === '' ? '' : `<bdi>${escapeHtml(text)}</bdi>`;
}

/** Mail is read in clients we do not control: no bidirectional control a sender wrote reaches them (toOneLine drops them from the subject). */
function finish(content: EmailContent): EmailContent {
  return { subject: content.subject, text: stripBidiControls(content.text), html: stripBidiControls(content.html) };
}

/** `[skyrelay] Payout failure SK99123456789`: sortable and searchable by control number. */
export function buildSubject(event: RelayEvent, prefix: string): string {
  let topic: string;
  if (event.source === 'skypay' && event.type === 'finance') {
    topic = `Finance ${event.signType} ${formatAmount(event)} account ${formatValue(event.accountNo)}`;
  } else if (event.source === 'skypay') {
    topic = `Payout ${spellStatus(event.status)} ${formatValue(event.controlNumber)}`;
  } else if (isGroupEvent(event)) {
    topic = `${describeGroupHeadline(event)} (${describeGroupBy(event)})`;
  } else if (isLedgerDaily(event)) {
    topic = describeHeadline(event);
  } else {
    const label = {
      rejection: 'Refused callback',
      'delivery.dead': 'Dead delivery',
      'callback.conflict': 'Conflicting callback',
      'database.lost': 'Database lost',
      'destination.unhealthy': 'Destination unhealthy',
      'destination.recovered': 'Destination recovered',
      'payout.anomaly': 'Payout anomaly',
      'payout.stuck': 'Payout stuck',
      'payout.unstuck': 'Payout no longer stuck',
      'payout.confirmed': 'Payout confirmed',
      'ledger.daily': 'Daily ledger',
      group: 'Grouped events',
    }[event.type];
    topic = `${label}: ${describePayoutTopic(event) ?? describeReason(event) ?? 'no reason recorded'}`;
  }
  return cutAtWord(toOneLine([prefix, topic].filter((part) => part !== '').join(' '), Infinity), SUBJECT_MAX);
}

/**
 * What a payout.* event is about, for its subject: the payout and, in a word, what happened to it. Its reason is a
 * paragraph for the body: cut to a subject's length it ended mid-word and never named the payout first. Undefined
 * when the data names no payout (a destination that omits the control number).
 */
function describePayoutTopic(event: SystemEvent): string | undefined {
  const { controlNumber, partner, kind, state, age } = event.data;
  if (!event.type.startsWith('payout.') || typeof controlNumber !== 'string' || controlNumber === '') return undefined;
  const payout = typeof partner === 'string' && partner !== '' ? `${controlNumber} of ${partner}` : controlNumber;
  const word = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
  const what =
    event.type === 'payout.anomaly'
      ? word(kind)
      : event.type === 'payout.stuck'
        ? [word(state), word(age) && `for ${word(age)}`].filter(Boolean).join(' ')
        : event.type === 'payout.unstuck' && word(state)
          ? `now ${word(state)}`
          : undefined;
  return what ? `${payout} (${what})` : payout;
}

/** A line cut to `max` characters at a word's end, never inside one (unless one word is longer than the line). */
function cutAtWord(line: string, max: number): string {
  if (line.length <= max) return line;
  const head = line.slice(0, max - 1);
  const space = head.lastIndexOf(' ');
  return `${(space > 0 ? head.slice(0, space) : head).trimEnd()}…`;
}

function listTraceFields(context: EmailContext): Field[] {
  return [
    ['Delivery id', context.deliveryId],
    ['Routed by', context.rules.length === 0 ? '—' : context.rules.join(', ')],
  ];
}

const MEMBER_COLUMNS = ['Control number', 'Partner', 'Status', 'Deal time', 'Failure description'] as const;

/** A group message: the members as a table (text: one line each), "and N more", then the trace. */
export function buildGroupEmailContent(event: GroupEvent, context: EmailContext): EmailContent {
  const headline = describeGroupHeadline(event);
  const by = describeGroupBy(event);
  const members = event.group.listed.map((line) => {
    const m = describeMember(line, context.timezone);
    return [m.controlNumber, m.partner, m.status, m.dealTime, m.failDescription];
  });
  const more = describeMore(event);
  const names = listMoreNames(event).join(', ');
  const unnamed = describeUnnamed(event);
  const rest = [
    ...(more === undefined ? [] : [`${more}:`]),
    ...(names === '' ? [] : [names]),
    ...(unnamed ? [unnamed] : []),
  ];
  const trace = [['Group message', event.id] as const, ...listTraceFields(context)];
  const text = [
    headline,
    `Group: ${by}`,
    '',
    ...members.map((cells) => cells.join(' | ')),
    ...rest,
    '',
    ...trace.map(([label, value]) => `${label}: ${value}`),
    '',
  ].join('\n');
  const cell = (tag: 'th' | 'td', value: string): string =>
    `<${tag} align="left" valign="top" style="padding:4px 12px 4px 0">${tag === 'th' ? escapeHtml(value) : isolate(value)}</${tag}>`;
  const html = [
    '<!DOCTYPE html>',
    '<html><body style="font-family:sans-serif">',
    `<h2>${isolate(headline)}</h2>`,
    `<p>Group: ${isolate(by)}</p>`,
    `<table cellspacing="0"><tr>${MEMBER_COLUMNS.map((c) => cell('th', c)).join('')}</tr>`,
    ...members.map((cells) => `<tr>${cells.map((c) => cell('td', c)).join('')}</tr>`),
    '</table>',
    ...rest.map((line) => `<p>${isolate(line)}</p>`),
    `<table cellspacing="0" style="color:#666;font-size:12px;margin-top:16px">${trace
      .map(([label, value]) => `<tr>${cell('th', label)}${cell('td', value)}</tr>`)
      .join('')}</table>`,
    '</body></html>',
  ].join('\n');
  return finish({ subject: buildSubject(event, context.subjectPrefix), text, html });
}

export function buildEmailContent(event: RelayEvent, context: EmailContext): EmailContent {
  if (isGroupEvent(event)) return buildGroupEmailContent(event, context);
  const headline = describeHeadline(event);
  // The daily ledger reads as its short table and links to the day's Ledger page.
  const ledger = isLedgerDaily(event);
  const fields = ledger ? listLedgerRows(event) : listAllFields(event, context.timezone);
  const trace = [...(ledger ? [['Event id', event.id] as const] : []), ...listTraceFields(context)];
  const textLines = (list: Field[]): string[] => list.map(([label, value]) => `${label}: ${value}`);
  const page = ledger ? ledgerPageUrl(context.publicUrl, event) : eventPageUrl(context.publicUrl, event.id);
  const openLabel = ledger ? 'Open the ledger' : 'Open in dashboard';
  const text = [
    headline,
    '',
    ...textLines(fields),
    '',
    ...textLines(trace),
    ...(page === undefined ? [] : ['', `${openLabel}: ${page}`]),
    '',
  ].join('\n');
  const row = ([label, value]: Field): string =>
    `<tr><th align="left" valign="top" style="padding:4px 12px 4px 0">${isolate(label)}</th>` +
    `<td style="padding:4px 0">${isolate(value).replace(/\r?\n/g, '<br>')}</td></tr>`;
  const html = [
    '<!DOCTYPE html>',
    '<html><body style="font-family:sans-serif">',
    `<h2>${isolate(headline)}</h2>`,
    `<table cellspacing="0">${fields.map(row).join('')}</table>`,
    `<table cellspacing="0" style="color:#666;font-size:12px;margin-top:16px">${trace.map(row).join('')}</table>`,
    ...(page === undefined ? [] : [`<p><a href="${escapeHtml(page)}">${openLabel}</a></p>`]),
    '</body></html>',
  ].join('\n');
  return finish({ subject: buildSubject(event, context.subjectPrefix), text, html });
}

const SAFE_ID = /^[A-Za-z0-9_-]+$/;
const SAFE_DOMAIN = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;

/**
 * `<delivery-id@sender-domain>`: the same on every attempt, so a mail
 * client that got an earlier attempt drops the repeat. Ids that are not
 * plain atoms are hex-encoded to stay a valid msg-id.
 */
export function buildMessageId(deliveryId: string, from: string): string {
  const left = SAFE_ID.test(deliveryId) ? deliveryId : Buffer.from(deliveryId, 'utf8').toString('hex');
  const address = addressparser(from)[0]?.address ?? '';
  const domain = address.slice(address.lastIndexOf('@') + 1);
  return `<skyrelay.${left}@${SAFE_DOMAIN.test(domain) ? domain : 'skyrelay.invalid'}>`;
}
