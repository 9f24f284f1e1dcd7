import { AdminError } from '../common/admin-error.ts';
import type { ChangeContext } from '../events/change-context.ts';
import type { AdminActor } from './admin-actor.ts';

/** One admin API request, once authenticated. */
export interface AdminCall {
  actor: AdminActor;
  ctx: ChangeContext;
}

export type Query = Readonly<Record<string, string | undefined>>;

export interface Page {
  items: object[];
  next_cursor: string | null;
}

/** A row and its version: the version is the row's ETag. */
export interface Versioned {
  body: object;
  version: number;
}

/**
 * A collection of the admin API (contract §9): list, get, create, update, delete. Each one checks
 * the caller's scope and calls the services the CLI calls; an operation a collection lacks
 * answers 405.
 */
export interface Collection {
  list(call: AdminCall, query: Query): Promise<Page>;
  get(call: AdminCall, id: string): Promise<Versioned>;
  create(call: AdminCall, body: unknown): Promise<object>;
  update(call: AdminCall, id: string, body: unknown, ifVersion?: number): Promise<Versioned>;
  remove(call: AdminCall, id: string, query: Query, ifVersion?: number): Promise<void>;
}

export function notAllowed(what: string): never {
  throw new AdminError(what, 'method_not_allowed');
}

/** Query parameters outside `allowed` are refused, like unknown body fields. */
export function checkQuery(query: Query, allowed: readonly string[]): void {
  const unknown = Object.keys(query).filter((key) => !allowed.includes(key));
  if (unknown.length > 0)
    throw new AdminError(`unknown query parameter${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}; allowed: ${allowed.join(', ')}`);
}

/** A time filter (`since`): ISO 8601. */
export function parseTime(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new AdminError(`${name} must be an ISO 8601 time, e.g. 2026-11-27T00:00:00Z`);
  return at;
}
