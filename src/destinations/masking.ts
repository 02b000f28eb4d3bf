import { isGroupEvent, type GroupEvent, type GroupMemberLine, type RelayEvent } from '../event';
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

/** A copy of `event` with the fields omitted (absent) or masked; the event itself is not touched. */
export function applyMasking(event: RelayEvent, masking: Masking): RelayEvent {
  if (!hasMasking(masking)) return event;
  const omit = new Set(masking.omit);
  const mask = new Set(masking.mask);
  if (isGroupEvent(event)) return maskGroup(event, omit, mask);
  if (event.source === 'skyrelay') {
    // Alerts carry some of the same facts (partner, controlNumber) flat in `data`: hidden alike.
    const data = { ...event.data };
    for (const key of Object.keys(data)) {
      if (omit.has(key)) delete data[key];
      else if (mask.has(key)) data[key] = maskValue(data[key]);
    }
    return { ...event, data };
  }
  const copy: Record<string, unknown> = { ...event };
  for (const field of MASKABLE_FIELDS) {
    if (!Object.hasOwn(event, field)) continue;
    // The deal time is also in dealTimeUtc: hiding one and not the other would hide nothing.
    const fields = field === 'dealTime' ? ['dealTime', 'dealTimeUtc'] : [field];
    for (const f of fields) {
      if (omit.has(field)) delete copy[f];
      else if (mask.has(field)) copy[f] = maskValue(copy[f]);
    }
  }
  const extra: Record<string, unknown> = {};
  const texts = new Map<string, string>();
  for (const key of Object.keys(event.extra)) {
    const name = EXTRA_PREFIX + key;
    const text = extraText(event.extra, key);
    if (omit.has(name)) continue;
    if (mask.has(name)) {
      const value = event.extra[key];
      // A number's text as SkyPay sent it: String() of a long amount would round it.
      extra[key] = maskValue(value, typeof value === 'string' ? value : text);
      continue;
    }
    extra[key] = event.extra[key];
    if (text !== undefined) texts.set(key, text);
  }
  keepExtraTexts(extra, texts);
  copy['extra'] = extra;
  return copy as unknown as RelayEvent;
}

/**
 * A group message names its members (control number, partner, time, failure description) and what they share
 * (`by`): the same fields are hidden there, so grouping never shows what the destination masks one by one.
 */
function maskGroup(event: GroupEvent, omit: ReadonlySet<string>, mask: ReadonlySet<string>): GroupEvent {
  const hide = (field: string, value: string | null): string | null | undefined =>
    omit.has(field) ? undefined : mask.has(field) ? maskValue(value) : value;
  const line = (m: GroupMemberLine): GroupMemberLine => ({
    ...m,
    controlNumber: hide('controlNumber', m.controlNumber) ?? null,
    partner: hide('partner', m.partner) ?? null,
    dealTime: hide('dealTime', m.dealTime) ?? null,
    failDescription: hide('failDescription', m.failDescription) ?? null,
  });
  const by: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(event.group.by)) {
    const shown = hide(key, value);
    if (shown !== undefined) by[key] = shown;
  }
  const moreNames = omit.has('controlNumber')
    ? []
    : mask.has('controlNumber')
      ? event.group.moreNames.map((n) => maskValue(n) ?? '')
      : event.group.moreNames;
  return { ...event, group: { ...event.group, by, listed: event.group.listed.map(line), moreNames } };
}
