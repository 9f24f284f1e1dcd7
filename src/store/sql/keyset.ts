import type { SqlValue } from '../sql-driver.ts';
import type { PageQuery } from '../store.ts';

/**
 * One page, newest first, of `table` under `where`: strictly after the page position in
 * (`timeColumn`, id) descending order. Rows inserted meanwhile are newer, so they land before the
 * position and never shift or repeat the rows of later pages.
 */
export function keysetPage(
  table: string,
  timeColumn: string,
  query: PageQuery,
  where: string[] = [],
  params: SqlValue[] = [],
): { sql: string; params: SqlValue[] } {
  const conditions = [...where];
  const all = [...params];
  if (query.after) {
    conditions.push(`(${timeColumn} < ? OR (${timeColumn} = ? AND id < ?))`);
    all.push(query.after.at, query.after.at, query.after.id);
  }
  const clause = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  all.push(query.limit);
  return { sql: `SELECT * FROM ${table} ${clause} ORDER BY ${timeColumn} DESC, id DESC LIMIT ?`, params: all };
}

/** The version compare-and-swap shared by the versioned aggregates. */
export function bumpSql(table: string, id: string, expected: number | undefined): { sql: string; params: SqlValue[] } {
  return expected === undefined
    ? { sql: `UPDATE ${table} SET version = version + 1 WHERE id = ?`, params: [id] }
    : { sql: `UPDATE ${table} SET version = version + 1 WHERE id = ? AND version = ?`, params: [id, expected] };
}
