/**
 * Keyset pagination, newest first: a page continues strictly after the last row of the previous
 * one in (time, id) order, so rows inserted meanwhile (newer) never shift or repeat later pages.
 */

/** Where a page starts: after the row with this time and id. */
export interface PagePosition {
  at: number;
  id: string;
}

export interface PageQuery {
  /** rows to return (the caller asks for one more to learn whether another page follows) */
  limit: number;
  after?: PagePosition;
}
