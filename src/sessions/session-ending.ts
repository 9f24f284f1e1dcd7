import { type EventFields, securityEvent } from '../events/security-event.ts';
import type { SessionEndReason, StoreOps } from '../store/store.ts';

/**
 * Ending sessions, always with their `session_ended` events and inside the caller's transaction,
 * so an ended session and its record commit together. Ending a session revokes all its tokens.
 */

/** Ends one session; true (and an event) only for the caller that ended it. */
export async function endSession(
  tx: StoreOps,
  sessionId: string,
  reason: SessionEndReason,
  now: number,
  who: EventFields,
): Promise<boolean> {
  if (!(await tx.sessions.end(sessionId, reason, now))) return false;
  await tx.events.create(securityEvent('session_ended', now, { ...who, sessionId, reason }));
  return true;
}

/** Ends every active session of a user, one event each; returns the ids ended. */
export async function endSessionsOfUser(
  tx: StoreOps,
  userId: string,
  reason: SessionEndReason,
  now: number,
  who: EventFields,
): Promise<string[]> {
  const ended = await tx.sessions.endAllOfUser(userId, reason, now);
  for (const sessionId of ended) await tx.events.create(securityEvent('session_ended', now, { ...who, userId, sessionId, reason }));
  return ended;
}

/** Ends every active session of a client (disabled: its tokens must stop working), one event each; returns how many. */
export async function endSessionsOfClient(
  tx: StoreOps,
  clientId: string,
  reason: SessionEndReason,
  now: number,
  who: EventFields,
): Promise<number> {
  const ended = await tx.sessions.endAllOfClient(clientId, reason, now);
  for (const session of ended) {
    await tx.events.create(
      securityEvent('session_ended', now, { ...who, clientId, userId: session.userId, sessionId: session.id, reason }),
    );
  }
  return ended.length;
}
