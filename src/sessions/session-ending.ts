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
  await endItsBrowserSession(tx, sessionId, reason, now, who);
  return true;
}

/**
 * Contract §11: a session that a browser session signed in ends that browser session with it,
 * and every other session it signed in — ending it ends it everywhere, and the next sign-in asks
 * for the password again. Call after ending `sessionId`; the others end for the same `reason`.
 */
export async function endItsBrowserSession(
  tx: StoreOps,
  sessionId: string,
  reason: SessionEndReason,
  now: number,
  who: EventFields,
): Promise<void> {
  const browserSessionId = (await tx.sessions.find(sessionId))?.browserSessionId;
  if (browserSessionId) await endBrowserSession(tx, browserSessionId, reason, now, who);
}

/** Ends a browser session and every session it signed in, one event each; returns the sessions ended. */
export async function endBrowserSession(
  tx: StoreOps,
  browserSessionId: string,
  reason: SessionEndReason,
  now: number,
  who: EventFields,
): Promise<string[]> {
  const browser = await tx.browserSessions.find(browserSessionId);
  if (!browser || browser.endedAt !== null) return [];
  const ended = await tx.browserSessions.end(browserSessionId, reason, now);
  const fields = { ...who, userId: browser.userId };
  await tx.events.create(securityEvent('browser_session_ended', now, { ...fields, sessionId: browserSessionId, reason }));
  for (const sessionId of ended) await tx.events.create(securityEvent('session_ended', now, { ...fields, sessionId, reason }));
  return ended;
}

/** Ends every active session of a user, one event each; returns the ids ended. */
export async function endSessionsOfUser(
  tx: StoreOps,
  userId: string,
  reason: SessionEndReason,
  now: number,
  who: EventFields,
  /** a browser session the caller's login continues: it stays (contract §11); null for none */
  keepBrowserSession: string | null = null,
): Promise<string[]> {
  const ended = await tx.sessions.endAllOfUser(userId, reason, now);
  // The user's browser sign-ins end too, so no browser signs them in again without a password.
  await tx.browserSessions.endAllOfUser(userId, now, keepBrowserSession);
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
