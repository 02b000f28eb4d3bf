const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `90d`, `24h`, `15m`, `30s`, `2w` in milliseconds; undefined for anything else. One reading for the CLI's flags,
 * the admin API's query strings and the configuration's waits.
 */
export function readDuration(text: string): number | undefined {
  const m = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  return m ? Number(m[1]) * (UNITS[m[2] as string] ?? 0) : undefined;
}

/** A duration the way operators read it back: `72 h`, `3 d`, `90 min`, `45 s` (whole units only). */
export function showDuration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms >= 2 * 86_400_000) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1_000 === 0) return `${ms / 1_000} s`;
  return `${ms} ms`;
}
