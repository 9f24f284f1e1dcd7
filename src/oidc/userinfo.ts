import type { Clock } from '../clock.ts';
import { OAuthError } from '../common/oauth-error.ts';
import type { JwtSigner } from '../keys/jwt-signer.ts';
import type { Store } from '../store/store.ts';
import { grantsOpenId } from '../tokens/id-token-minter.ts';
import { findPresentedToken, isActive } from '../tokens/token-lookup.ts';

/** OpenID Connect Core §5.3.2: the claims about the signed-in user; `sub` always. */
export interface UserInfoClaims {
  sub: string;
  email?: string;
  email_verified?: boolean;
}

const REALM = 'Bearer realm="sei-auth"';

/** RFC 6750 §3: the challenge names the error; the description never echoes the token. */
function bearerError(code: 'invalid_token' | 'insufficient_scope', description: string): OAuthError {
  return new OAuthError(code, description, {
    headers: { 'WWW-Authenticate': `${REALM}, error="${code}", error_description="${description}"` },
  });
}

/** RFC 6750 §3.1: a request with no token gets the challenge without an error code. */
export function missingBearerToken(): OAuthError {
  return new OAuthError('invalid_request', 'An access token is required: Authorization: Bearer <token>.', {
    status: 401,
    headers: { 'WWW-Authenticate': REALM },
  });
}

/**
 * The UserInfo endpoint's answer (OpenID Connect Core §5.3): for an active access token of a user
 * whose scope holds `openid`, the user's claims by granted scope (§5.4: `email` gives email and
 * email_verified). Revoked, expired, unknown and service tokens are `invalid_token`.
 */
export class UserInfo {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly signer: JwtSigner;

  constructor(deps: { store: Store; clock: Clock; signer: JwtSigner }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.signer = deps.signer;
  }

  async claims(token: string): Promise<UserInfoClaims> {
    const found = token.length <= 8192 ? await findPresentedToken(this.store, this.signer, token, 'access_token') : undefined;
    if (found?.kind !== 'access_token' || !isActive(found, this.clock.now())) {
      throw bearerError('invalid_token', 'The access token is invalid, expired or revoked.');
    }
    const scope = found.record.scope;
    // Core §5.3: the token must come from an OpenID Connect authentication request.
    if (!grantsOpenId(scope)) throw bearerError('insufficient_scope', 'The access token was not granted the openid scope.');
    const claims: UserInfoClaims = { sub: found.record.session.userId };
    if (scope.split(' ').includes('email')) {
      claims.email = found.record.email;
      // As in the ID token: every address was set by an administrator or asserted by the organization's IdP.
      claims.email_verified = true;
    }
    return claims;
  }
}
