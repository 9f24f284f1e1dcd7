import { answerCodeReuse } from '../authorize/code-reuse.ts';
import type { Clock } from '../clock.ts';
import { OAuthError } from '../common/oauth-error.ts';
import { type EventContext, securityEvent } from '../events/security-event.ts';
import type { Store, StoreOps, User } from '../store/store.ts';
import type { Consumable } from './login-decision.ts';

export const INVALID_CODE_MESSAGE = 'The authorization code is invalid, expired or already used.';
/** RFC 7522 §3.1: invalid_grant; the reason goes to the event log only, never the document. */
export const SAML_REJECTED_MESSAGE = 'The SAML assertion was rejected.';

/** Spends it inside the login's transaction; true only for the one caller that does. */
export function spend(tx: StoreOps, item: Consumable, sessionId: string, now: number): Promise<boolean> {
  switch (item.kind) {
    case 'authorization_code':
      return tx.codes.consume(item.hash, sessionId, now);
    case 'saml_assertion':
      // Each assertion is accepted once until it could no longer be accepted, across restarts and instances.
      return tx.replay.claim(item.issuer, item.assertionId, item.keepUntil);
  }
}

/** Another request spent it first: a reuse, answered as the grant that made it would. */
export async function refuseSpent(
  deps: { store: Store; clock: Clock },
  item: Consumable,
  user: User,
  context: EventContext,
): Promise<OAuthError> {
  switch (item.kind) {
    case 'authorization_code': {
      // Two exchanges of one code: the second is a reuse like any other.
      const spent = await deps.store.codes.find(item.hash);
      if (spent) await answerCodeReuse(deps, spent, context);
      return new OAuthError('invalid_grant', INVALID_CODE_MESSAGE);
    }
    case 'saml_assertion':
      await deps.store.events.create(
        securityEvent('saml_rejected', deps.clock.now(), { ...context, reason: 'replayed', userId: user.id, email: user.email }),
      );
      return new OAuthError('invalid_grant', SAML_REJECTED_MESSAGE);
  }
}
