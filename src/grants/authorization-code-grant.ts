import type { Clock } from '../clock.ts';
import { hashSecret } from '../crypto/secrets.ts';
import { securityEvent, type EventContext } from '../domain/event-log.ts';
import { verifierMatches } from '../domain/pkce.ts';
import type { TokenService } from '../domain/token-service.ts';
import { OAuthError } from '../errors/oauth-error.ts';
import type { AuthorizationCode, Store } from '../store/store.ts';
import type { Grant } from './grant.ts';

export interface AuthorizationCodeGrantDeps {
  store: Store;
  clock: Clock;
  tokens: TokenService;
}

/**
 * RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5): exchanges a code minted by the login page. Checks
 * every binding, then starts the session; the code is consumed inside the session's transaction,
 * so it stays usable if the login is refused (the session limit) and is spent exactly once.
 */
export function authorizationCodeGrant(deps: AuthorizationCodeGrantDeps): Grant {
  const invalidCode = () => new OAuthError('invalid_grant', 'The authorization code is invalid, expired or already used.');

  /** RFC 6749 §4.1.2: a code used twice is refused and the tokens issued from it are revoked. */
  const treatAsReuse = async (code: AuthorizationCode, context: EventContext): Promise<void> => {
    const now = deps.clock.now();
    const user = await deps.store.findUserById(code.userId);
    const who = { ...context, userId: code.userId, email: user?.email ?? null, sessionId: code.sessionId };
    await deps.store.transaction(async (tx) => {
      await tx.insertEvent(securityEvent('code_reused', now, { ...who, reason: 'used_code_presented' }));
      if (code.sessionId !== null && (await tx.endSession(code.sessionId, 'code_reuse', now))) {
        await tx.insertEvent(securityEvent('session_ended', now, { ...who, reason: 'code_reuse' }));
      }
    });
  };

  return {
    grantTypes: ['authorization_code'],
    async handle({ params, client, endOtherSessions, context }) {
      const presented = params.require('code');
      const hash = hashSecret(presented);
      const code = presented.length <= 200 ? await deps.store.findAuthorizationCode(hash) : undefined;
      if (!code) throw invalidCode();
      // Checked before the client binding, as fosite does: a used code has leaked, whoever presents it.
      if (code.usedAt !== null) {
        await treatAsReuse(code, context);
        throw invalidCode();
      }
      const now = deps.clock.now();
      if (code.expiresAt <= now) throw invalidCode();
      // RFC 6749 §4.1.3: "ensure that the authorization code was issued to the authenticated confidential client".
      if (code.clientId !== client.id) throw invalidCode();

      const redirectUri = params.get('redirect_uri');
      // RFC 6749 §4.1.3: redirect_uri is required if the authorization request included it, "and their values MUST be identical".
      if (code.redirectUriGiven && redirectUri === undefined) {
        throw new OAuthError('invalid_grant', 'redirect_uri is required: the authorization request included it.');
      }
      if (redirectUri !== undefined && redirectUri !== code.redirectUri) {
        throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request.');
      }

      const verifier = params.get('code_verifier');
      if (code.codeChallenge !== null) {
        // RFC 7636 §4.6: if the computed challenge differs from the stored one, "invalid_grant" MUST be returned.
        if (verifier === undefined || !verifierMatches(verifier, code.codeChallenge)) {
          throw new OAuthError('invalid_grant', 'PKCE verification failed.');
        }
      } else if (verifier !== undefined) {
        // RFC 9700 §4.8.2: a code_verifier for a code issued without a challenge is a PKCE downgrade; refuse it.
        throw new OAuthError('invalid_grant', 'code_verifier was sent, but the authorization request had no code_challenge.');
      }

      const user = await deps.store.findUserById(code.userId);
      if (!user || user.disabled) throw invalidCode();

      // Thrown inside the transaction when another exchange consumed the code first. Created only
      // then: an Error captures a stack trace, which every successful exchange paid for (issue #8 profile).
      let lostRace: OAuthError | undefined;
      try {
        return await deps.tokens.startSession({
          user,
          client,
          grantType: 'authorization_code',
          endOtherSessions,
          // Contract §3: in the code flow, the redirect URL the authorize request used.
          redirectUrl: code.redirectUri,
          // seed: the refresh token is sent for the authorization-code flow of clients with refresh tokens.
          issueRefreshToken: client.refreshTokens,
          context,
          withinTransaction: async (tx, sessionId) => {
            if (!(await tx.consumeAuthorizationCode(hash, sessionId, deps.clock.now()))) throw (lostRace = invalidCode());
          },
        });
      } catch (error) {
        if (lostRace === undefined || error !== lostRace) throw error;
        // Two exchanges of one code: the second is a reuse like any other.
        const spent = await deps.store.findAuthorizationCode(hash);
        if (spent) await treatAsReuse(spent, context);
        throw error;
      }
    },
  };
}
