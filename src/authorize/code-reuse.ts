import type { Clock } from '../clock.ts';
import { type EventContext, securityEvent } from '../events/security-event.ts';
import { endSession } from '../sessions/session-ending.ts';
import type { AuthorizationCode, Store } from '../store/store.ts';

/**
 * RFC 6749 §4.1.2: a code presented again has leaked; it is refused "and SHOULD revoke (when
 * possible) all tokens previously issued based on that authorization code": the session it
 * started ends, and the reuse is on record.
 */
export async function answerCodeReuse(deps: { store: Store; clock: Clock }, code: AuthorizationCode, context: EventContext): Promise<void> {
  const now = deps.clock.now();
  const user = await deps.store.users.find(code.userId);
  const who = { ...context, userId: code.userId, email: user?.email ?? null, sessionId: code.sessionId };
  await deps.store.transaction(async (tx) => {
    await tx.events.create(securityEvent('code_reused', now, { ...who, reason: 'used_code_presented' }));
    if (code.sessionId !== null) await endSession(tx, code.sessionId, 'code_reuse', now, who);
  });
}
