/** The security event log. */

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
}

export interface EventFilter {
  userId?: string;
  since?: number;
  /** at most this many (default 1000) */
  limit?: number;
  /**
   * Which end of the log the limit keeps: the oldest matching events (default) or the newest.
   * Either way the result is in time order, oldest first.
   */
  newest?: boolean;
}

export interface EventStore {
  create(event: SecurityEvent): Promise<void>;
  list(filter: EventFilter): Promise<SecurityEvent[]>;
  /** Deletes events before `before` — at most `limit` of them when given; returns how many. */
  prune(before: number, limit?: number): Promise<number>;
}
