/** A plain object's properties, for reading values of unknown shape (parsed JSON, library errors) safely. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
