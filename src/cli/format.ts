import { BIDI_CONTROL_RANGES } from '../bidi';

/** Plain-text output helpers: aligned tables for people, one JSON object per line for tools. */

// C0 (newline and tab included: either breaks a table row), DEL and C1 (U+009B is a one-character CSI), and the
// bidirectional formatting characters (an override reorders the rest of the line on a terminal that honours it).
const CONTROL = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${BIDI_CONTROL_RANGES}]`, 'g');
const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Makes text from outside (SkyPay's fields, receivers' answers, refused
 * bodies) safe to put on an operator's terminal: every control character
 * becomes a visible escape (`\x1b`, `\u009b`, `\n`, `\u202e`), so nothing can clear
 * the screen, set the title, move the cursor, overwrite a line or reorder it.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return (
      SHORT_ESCAPES[c] ??
      (code >= 0x80 ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`)
    );
  });
}

export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  // Escaped before measuring, so an escape's width counts and the columns stay aligned.
  const cells = rows.map((row) => row.map((cell) => escapeControls(cell)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (row: readonly string[]) =>
    row
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)];
}

/**
 * JSON.stringify escapes C0 but leaves DEL, C1 and the bidirectional
 * controls raw, and a terminal acts on those too; `\u007f`, `\u202e` are
 * valid JSON escapes for the same text.
 */
export function jsonLines(items: readonly unknown[]): string[] {
  return items.map((item) => escapeJson(JSON.stringify(item)));
}

/** The same for JSON text written by other means (events with their extra fields as SkyPay sent them). */
export function escapeJson(json: string): string {
  return json.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Cuts long free text (errors, responses) for a table cell. */
export function clip(text: string | null | undefined, max = 60): string {
  if (!text) return '—';
  const flat = escapeControls(text.replace(/\s+/g, ' '));
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `2026-11-25T20:00:00.123Z` → `2026-11-25 20:00:00Z`: second precision reads better in a table. */
export function shortTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}
