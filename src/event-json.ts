import type { CallbackEvent, RelayEvent } from './event';
import { minifyJson, scanMembers } from './raw-json';

/**
 * Extra fields travel as the exact JSON text SkyPay sent (a number like
 * 12345678901234567890.123 does not survive JSON.parse), while routing and
 * presentation keep reading the parsed values in `extra`. The text rides
 * beside the `extra` object, unseen by JSON.stringify and by rules; events
 * are written to storage and to webhooks with stringifyEvent and read back
 * with parseEvent, which finds the text again in the stored JSON.
 */
const rawTexts = new WeakMap<object, ReadonlyMap<string, string>>();

/** Remembers the sent text of each extra field (keys not in `extra` are ignored). */
export function keepExtraTexts(extra: Record<string, unknown>, texts: ReadonlyMap<string, string>): void {
  const kept = new Map<string, string>();
  for (const key of Object.keys(extra)) {
    const text = texts.get(key);
    if (text !== undefined) kept.set(key, text);
  }
  if (kept.size > 0) rawTexts.set(extra, kept);
}

/** The JSON text of one extra field: as sent when known, else as JSON.stringify writes the value. */
export function extraText(extra: Record<string, unknown>, key: string): string | undefined {
  return rawTexts.get(extra)?.get(key) ?? JSON.stringify(extra[key]);
}

export function stringifyExtra(extra: Record<string, unknown>): string {
  if (!rawTexts.has(extra)) return JSON.stringify(extra);
  const members: string[] = [];
  for (const key of Object.keys(extra)) {
    const text = extraText(extra, key);
    if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${members.join(',')}}`;
}

/** JSON.stringify(event), except that extra fields are written as SkyPay sent them. */
export function stringifyEvent(event: RelayEvent): string {
  if (event.source !== 'skypay' || !rawTexts.has(event.extra)) return JSON.stringify(event);
  return stringifyWith(event, { extra: stringifyExtra(event.extra) });
}

/** JSON.stringify(holder) with some members written as the given JSON texts, in their places. */
export function stringifyWith(holder: object, written: Readonly<Record<string, string>>): string {
  const members: string[] = [];
  for (const [key, value] of Object.entries(holder)) {
    const text = Object.hasOwn(written, key) ? written[key] : JSON.stringify(value);
    if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${members.join(',')}}`;
}

/** JSON.parse of a stored event, with its extra fields' sent text found again. */
export function parseEvent(text: string): RelayEvent {
  const event = JSON.parse(text) as RelayEvent;
  if (event.source === 'skypay' && event.extra && Object.keys(event.extra).length > 0) {
    const extraJson = scanMembers(text)?.get('extra');
    const texts = extraJson === undefined ? undefined : scanMembers(extraJson);
    if (texts) keepExtraTexts(event.extra, texts);
  }
  return event;
}

/** The extra fields as sorted [key, minified text] pairs: what "the same content" compares. */
export function canonicalExtra(event: CallbackEvent): [string, string][] {
  return Object.keys(event.extra)
    .sort()
    .map((key) => [key, minifyJson(extraText(event.extra, key) ?? 'null')]);
}
