import { AdminError } from '../common/admin-error.ts';
import type { PagePosition } from '../store/store.ts';

/** `?limit=` when absent, and its ceiling. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/**
 * The opaque `cursor` of a listing: the (time, id) of the last row of the page, base64url JSON.
 * It carries no secret and grants nothing: the next page is still filtered by the caller's scope.
 */
export function encodeCursor(position: PagePosition): string {
  return Buffer.from(JSON.stringify([position.at, position.id])).toString('base64url');
}

export function decodeCursor(cursor: string): PagePosition {
  try {
    if (cursor.length > 512) throw new Error('too long');
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string') {
      return { at: value[0] as number, id: value[1] as string };
    }
  } catch {
    // falls through to the refusal
  }
  throw new AdminError('cursor is not one this server returned (take next_cursor from the previous page)');
}

export function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PAGE_SIZE;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE_SIZE) {
    throw new AdminError(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  }
  return Number(raw);
}

/**
 * One page of a listing: asks the store for one row more than `limit` to learn whether another
 * page follows, without counting.
 */
export async function pageOf<Row, Item>(
  query: { limit?: string; cursor?: string },
  fetch: (page: { limit: number; after?: PagePosition }) => Promise<Row[]>,
  position: (row: Row) => PagePosition,
  view: (row: Row) => Item | Promise<Item>,
): Promise<{ items: Item[]; next_cursor: string | null }> {
  const limit = parseLimit(query.limit);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const rows = await fetch({ limit: limit + 1, after });
  const page = rows.slice(0, limit);
  const items: Item[] = [];
  for (const row of page) items.push(await view(row));
  const last = page[page.length - 1];
  return { items, next_cursor: rows.length > limit && last !== undefined ? encodeCursor(position(last)) : null };
}
