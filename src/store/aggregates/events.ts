/** The security event log. */
import type { PageQuery } from './page.ts';

export interface SecurityEvent {
  id: string;
  at: number;
  type: string;
  reason: string | null;
  userId: string | null;
  email: string | null;
  clientId: string | null;
  sessionId: string | null;
  ip: string | null;
  requestId: string | null;
  /** who made an admin change: 'cli', 'user:usr_…' or 'client:cl_…' (null: not an admin change) */
  actor?: string | null;
  /** what an admin change changed: 'user:usr_…', 'client:cl_…', … */
  target?: string | null;
  /** the organization an admin change belongs to */
  orgId?: string | null;
}

/** The admin API's filters (contract §9), newest first. */
export interface EventPageFilter extends PageQuery {
  type?: string;
  userId?: string;
  clientId?: string;
  ip?: string;
  since?: number;
  /** only events of this organization: its admin changes and its users' events */
  orgId?: string;
}

export interface EventFilter {
  userId?: string;
  type?: string;
  clientId?: string;
  ip?: string;
  since?: number;
  /** at most this many (default 1000) */
  limit?: number;
  /** the newest `limit` events instead of the oldest (still listed oldest first) */
  newest?: boolean;
}

export interface EventStore {
  create(event: SecurityEvent): Promise<void>;
  list(filter: EventFilter): Promise<SecurityEvent[]>;
  /** Deletes events before `before`; with `limit`, at most that many (a bounded batch). */
  prune(before: number, limit?: number): Promise<number>;
  /** Newest first (keyset on at, id). */
  page(filter: EventPageFilter): Promise<SecurityEvent[]>;
  find(id: string): Promise<SecurityEvent | undefined>;
  /** An erased user's events keep only a pseudonymous id: no email, no user id. */
  pseudonymize(userId: string, pseudonym: string): Promise<number>;
}
