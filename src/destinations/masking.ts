import {
  isGroupEvent,
  type CallbackEvent,
  type GroupEvent,
  type GroupMemberLine,
  type PayoutHistoryEntry,
  type RelayEvent,
  type SystemEvent,
} from '../event';
import { extraText, keepExtraTexts } from '../event-json';

/**
 * `omit` and `mask` of a destination: what leaves skyrelay for it, never what is stored. Pure; the destination
 * wrapper in index.ts applies it to every event before Slack, email or webhook formatting sees it.
 */
export interface Masking {
  omit: readonly string[];
  mask: readonly string[];
}

/**
 * The fields that may be omitted or masked: those that carry a payout's particulars. The rest (id, status, payType,
 * source, type, action, receivedAt) are what routing, the webhook `type` and a message's headline are made of, and
 * hide nothing. SkyPay's undocumented fields are named `extra.<name>`: they cannot be listed in advance.
 */
export const MASKABLE_FIELDS = [
  'controlNumber',
  'partner',
  'referenceNumber',
  'failDescription',
  'dealTime',
  // A finance notification's account numbers.
  'accountNo',
  'sourceAccountNo',
  'beneficiaryAccountNo',
] as const;
const MASKABLE: ReadonlySet<string> = new Set(MASKABLE_FIELDS);
const EXTRA_PREFIX = 'extra.';

/** How many trailing characters a masked value keeps, e.g. `****1119` for a reference number. */
export const KEPT_CHARS = 4;
const MASK = '****';

/** Why `field` cannot be omitted or masked, or undefined when it can. */
export function findMaskFieldProblem(field: string): string | undefined {
  if (MASKABLE.has(field)) return undefined;
  if (field.startsWith(EXTRA_PREFIX) && field.length > EXTRA_PREFIX.length) return undefined;
  return `unknown field "${field}" (expected one of ${MASKABLE_FIELDS.join(', ')}, or extra.<name> for a field SkyPay sends beyond its documentation)`;
}

/**
 * Keeps the last 4 characters and hides the rest behind a fixed `****`, so the length is not given away either;
 * a value of 4 characters or fewer is hidden whole. Numbers and booleans are masked as their text; objects and
 * lists have no meaningful tail and are hidden whole; null (nothing to hide) stays null.
 */
export function maskValue(value: unknown, text?: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object') return MASK;
  const s = text ?? String(value);
  const chars = [...s];
  return chars.length <= KEPT_CHARS ? MASK : MASK + chars.slice(-KEPT_CHARS).join('');
}

export function hasMasking(m: Masking | undefined): m is Masking {
  return m !== undefined && (m.omit.length > 0 || m.mask.length > 0);
}

/**
 * What stands in free text for a value the destination omits: the text around it (an alert's reason, an error a
 * receiver echoed) still reads, and says something was there.
 */
export const OMITTED = '[omitted]';

/**
 * Values of 4 characters or more are found anywhere in a text; shorter ones only as a word of their own, or a
 * 3-letter partner name would be cut out of every word that holds it.
 */
const FOUND_ANYWHERE_CHARS = 4;

/**
 * The values a destination hides, and what each reads as in the free text of the events it is sent: prose names
 * payouts (`Payout SK99… of Acme@skypay was already paid`), and a reason, a receiver's echoed error or a SkyPay
 * description may quote any field. Collected while the fields are masked; then every text of the copy is rewritten.
 */
class HiddenValues {
  private readonly shown = new Map<string, string>();
  private pattern: RegExp | undefined;

  constructor(
    private readonly omit: ReadonlySet<string>,
    private readonly mask: ReadonlySet<string>,
  ) {}

  /** Whether the destination omits or masks `field`. */
  hides(field: string): boolean {
    return this.omit.has(field) || this.mask.has(field);
  }

  /** The field's value as the destination gets it (undefined: omitted), noting the value for the free texts. */
  hide(field: string, value: unknown, text?: string): string | null | undefined {
    const shown = this.omit.has(field) ? undefined : maskValue(value, text);
    this.note(value, shown ?? OMITTED, text);
    return shown;
  }

  /** Notes a value to be hidden in the free texts as `shown`. */
  note(value: unknown, shown: string, text?: string): void {
    const raw = typeof value === 'string' ? value : typeof value === 'number' ? (text ?? String(value)) : undefined;
    if (raw === undefined || raw.trim() === '') return;
    this.shown.set(raw.toLowerCase(), shown);
    this.pattern = undefined;
  }

  /** `text` with every hidden value (in any letter case) replaced by what it reads as. */
  rewrite(text: string): string {
    if (this.shown.size === 0 || text === '') return text;
    this.pattern ??= new RegExp(
      [...this.shown.keys()]
        .sort((a, b) => b.length - a.length)
        .map((value) => {
          const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          return [...value].length >= FOUND_ANYWHERE_CHARS
            ? escaped
            : `(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`;
        })
        .join('|'),
      'giu',
    );
    return text.replace(this.pattern, (found) => this.shown.get(found.toLowerCase()) ?? OMITTED);
  }

  /** A copy of a value (string, list, record) with every string in it rewritten. */
  rewriteDeep<T>(value: T): T {
    if (typeof value === 'string') return this.rewrite(value) as T;
    if (Array.isArray(value)) return value.map((v: unknown) => this.rewriteDeep(v)) as T;
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.rewriteDeep(v)])) as T;
    }
    return value;
  }
}

/**
 * The fields that carry a payout's time, in skyrelay's own events: hiding `dealTime` hides them too (the status
 * query's times of a reconciliation anomaly are the same instants).
 */
const DEAL_TIME_FIELDS = ['dealTime', 'dealTimeUtc', 'transactionDate', 'payTime', 'cancelTime'];

/**
 * A copy of `event` with the fields omitted (absent) or masked, and every hidden value taken out of its free texts
 * too; the event itself is not touched.
 */
export function applyMasking(event: RelayEvent, masking: Masking): RelayEvent {
  if (!hasMasking(masking)) return event;
  const hidden = new HiddenValues(new Set(masking.omit), new Set(masking.mask));
  if (isGroupEvent(event)) return maskGroup(event, hidden);
  if (event.source === 'skyrelay') return maskSystemEvent(event, hidden);
  return maskCallbackEvent(event, hidden);
}

/** Alerts carry some of the same facts (partner, controlNumber) flat in `data`: hidden alike, and in their prose. */
function maskSystemEvent(event: SystemEvent, hidden: HiddenValues): SystemEvent {
  const data: SystemEvent['data'] = {};
  for (const [key, value] of Object.entries(event.data)) {
    const field = DEAL_TIME_FIELDS.includes(key) ? 'dealTime' : key;
    if (key === 'history' && Array.isArray(value)) {
      data[key] = hidden.hides('dealTime') ? value.map((entry) => hideDealTime(entry, hidden)) : value;
      continue;
    }
    if (!hidden.hides(field)) {
      data[key] = value;
      continue;
    }
    const shown = hidden.hide(field, value);
    if (shown !== undefined) data[key] = shown;
  }
  return { ...event, data: hidden.rewriteDeep(data) };
}

/** A timeline entry of an anomaly: its deal time is the payout's like any other. */
function hideDealTime(entry: PayoutHistoryEntry, hidden: HiddenValues): PayoutHistoryEntry {
  const shown = hidden.hide('dealTime', entry.dealTime);
  return { ...entry, dealTime: shown ?? OMITTED };
}

function maskCallbackEvent(event: CallbackEvent, hidden: HiddenValues): RelayEvent {
  const copy: Record<string, unknown> = { ...event };
  for (const field of MASKABLE_FIELDS) {
    if (!Object.hasOwn(event, field) || !hidden.hides(field)) continue;
    // The deal time is also in dealTimeUtc: hiding one and not the other would hide nothing.
    const fields = field === 'dealTime' ? ['dealTime', 'dealTimeUtc'] : [field];
    for (const f of fields) {
      const shown = hidden.hide(field, copy[f]);
      if (shown === undefined) delete copy[f];
      else copy[f] = shown;
    }
  }
  const extra: Record<string, unknown> = {};
  const texts = new Map<string, string>();
  const kept: string[] = [];
  for (const key of Object.keys(event.extra)) {
    const name = EXTRA_PREFIX + key;
    const value = event.extra[key];
    const text = extraText(event.extra, key);
    if (hidden.hides(name)) {
      // A number's text as SkyPay sent it: String() of a long amount would round it.
      const shown = hidden.hide(name, value, typeof value === 'string' ? value : text);
      if (shown !== undefined) extra[key] = shown;
      continue;
    }
    extra[key] = value;
    if (text !== undefined) texts.set(key, text);
    kept.push(key);
  }
  // Free text may quote a hidden value: a failure description naming the payout, an extra field repeating it.
  for (const field of ['failDescription', 'referenceNumber'] as const) {
    if (typeof copy[field] === 'string') copy[field] = hidden.rewrite(copy[field]);
  }
  for (const key of kept) rewriteExtra(extra, texts, key, hidden);
  keepExtraTexts(extra, texts);
  copy['extra'] = extra;
  return copy as unknown as RelayEvent;
}

/**
 * An extra field kept as SkyPay sent it, unless it quotes a hidden value: a string is rewritten; a number or a
 * structure is rewritten in its JSON text and read back, or hidden whole if the text no longer reads as JSON.
 */
function rewriteExtra(
  extra: Record<string, unknown>,
  texts: Map<string, string>,
  key: string,
  hidden: HiddenValues,
): void {
  const value = extra[key];
  if (typeof value === 'string') {
    const rewritten = hidden.rewrite(value);
    if (rewritten === value) return;
    extra[key] = rewritten;
    // The text as sent would bring the value back: JSON.stringify writes the rewritten one.
    texts.delete(key);
    return;
  }
  const text = texts.get(key) ?? JSON.stringify(value);
  if (text === undefined) return;
  const rewritten = hidden.rewrite(text);
  if (rewritten === text) return;
  try {
    extra[key] = JSON.parse(rewritten);
    texts.set(key, rewritten);
  } catch {
    extra[key] = maskValue(value, text);
    texts.delete(key);
  }
}

/**
 * A group message names its members (control number, partner, time, failure description) and what they share
 * (`by`): the same fields are hidden there, so grouping never shows what the destination masks one by one.
 */
function maskGroup(event: GroupEvent, hidden: HiddenValues): GroupEvent {
  const hide = (field: string, value: string | null): string | null | undefined =>
    hidden.hides(field) ? hidden.hide(field, value) : value;
  const line = (m: GroupMemberLine): GroupMemberLine => ({
    ...m,
    controlNumber: hide('controlNumber', m.controlNumber) ?? null,
    partner: hide('partner', m.partner) ?? null,
    dealTime: hide('dealTime', m.dealTime) ?? null,
    failDescription: hide('failDescription', m.failDescription) ?? null,
  });
  const listed = event.group.listed.map(line);
  const by: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(event.group.by)) {
    const shown = hide(key, value);
    if (shown !== undefined) by[key] = shown;
  }
  const moreNames = !hidden.hides('controlNumber')
    ? event.group.moreNames
    : event.group.moreNames.flatMap((n) => {
        const shown = hidden.hide('controlNumber', n);
        return shown === undefined || shown === null ? [] : [shown];
      });
  // The data repeats what the members share (`by.partner`, the group's key): hidden alike.
  const data: SystemEvent['data'] = {};
  for (const [key, value] of Object.entries(event.data)) {
    const field = key.startsWith('by.') ? key.slice('by.'.length) : key;
    if (!hidden.hides(field)) data[key] = value;
    else {
      const shown = hidden.hide(field, value);
      if (shown !== undefined) data[key] = shown;
    }
  }
  return {
    ...event,
    data: hidden.rewriteDeep(data),
    group: hidden.rewriteDeep({ ...event.group, by, listed, moreNames }),
  };
}
