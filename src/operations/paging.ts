/** One page of a listing, newest first: `next` is the cursor of the page after it (its last row's id), if any. */
export interface Page<T> {
  items: T[];
  next: string | undefined;
}

/**
 * Fetches one row more than the page holds: the extra row is never shown, it only says that a next page exists,
 * which saves counting the rest.
 */
export async function readPage<T extends { id: string }>(
  limit: number,
  fetch: (limitPlusOne: number) => Promise<T[]>,
): Promise<Page<T>> {
  const rows = await fetch(limit + 1);
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next: rows.length > limit && last ? last.id : undefined };
}
