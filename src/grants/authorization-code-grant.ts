import { answerCodeReuse } from '../authorize/code-reuse.ts';
import { verifierMatches } from '../authorize/pkce.ts';
import type { Clock } from '../clock.ts';
import { OAuthError } from '../common/oauth-error.ts';
import { grantedScope } from '../common/scope.ts';
import { storedKey } from '../crypto/secrets.ts';
import { INVALID_CODE_MESSAGE } from '../sessions/consumables.ts';
import type { Store } from '../store/store.ts';
import type { Grant } from './grant.ts';

export interface AuthorizationCodeGrantDeps {
  store: Store;
  clock: Clock;
}

/**
 * RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5): exchanges a code minted by the login page. Checks
 * every binding and decides the login; the issuer spends the code inside the session's
 * transaction, so it stays usable if the login is refused (the session limit) and is spent once.
 */
export function authorizationCodeGrant(deps: AuthorizationCodeGrantDeps): Grant {
  const invalidCode = () => new OAuthError('invalid_grant', INVALID_CODE_MESSAGE);

  return {
    grantTypes: ['authorization_code'],
    async decide({ params, client, endOtherSessions, audience, context }) {
      const presented = params.require('code');
      const hash = storedKey(presented);
      const code = presented.length <= 200 ? await deps.store.codes.find(hash) : undefined;
      if (!code) throw invalidCode();
      // Checked before the client binding, as fosite does: a used code has leaked, whoever presents it.
      if (code.usedAt !== null) {
        await answerCodeReuse(deps, code, context);
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

      const user = await deps.store.users.find(code.userId);
      if (!user || user.disabled) throw invalidCode();
      // Contract §5: the exchange may narrow the scope the user was shown, never widen it.
      const scope = grantedScope(params.get('scope'), code.scope);

      return {
        kind: 'login',
        login: {
          user,
          client,
          grantType: 'authorization_code',
          endOtherSessions,
          // Contract §3: in the code flow, the redirect URL the authorize request used.
          redirectUrl: code.redirectUri,
          // seed: the refresh token is sent for the authorization-code flow of clients with refresh tokens.
          issueRefreshToken: client.refreshTokens,
          scope,
          audience,
          consume: { kind: 'authorization_code', hash },
          // Contract §11: the browser sign-in the code came from (every code minted since browser sessions exist).
          ...(code.browserSessionId && code.authTime != null
            ? { browser: { browserSessionId: code.browserSessionId, authTime: code.authTime, nonce: code.nonce ?? null } }
            : {}),
        },
      };
    },
  };
}
