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
  /** the newest `limit` events instead of the oldest (still listed oldest first) */
  newest?: boolean;
}

export interface EventStore {
  create(event: SecurityEvent): Promise<void>;
  list(filter: EventFilter): Promise<SecurityEvent[]>;
  /** Deletes events before `before`; with `limit`, at most that many (a bounded batch). */
  prune(before: number, limit?: number): Promise<number>;
}
