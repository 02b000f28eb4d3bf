/** Plain-text output helpers: aligned tables for people, one JSON object per line for tools. */

export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)];
}

export function jsonLines(items: readonly unknown[]): string[] {
  return items.map((item) => JSON.stringify(item));
}

/** Cuts long free text (errors, responses) for a table cell. */
export function clip(text: string | null | undefined, max = 60): string {
  if (!text) return '—';
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `2026-11-25T20:00:00.123Z` → `2026-11-25 20:00:00Z`: second precision reads better in a table. */
export function shortTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}
