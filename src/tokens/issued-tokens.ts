import type { TokenType } from '../store/store.ts';

/**
 * What a login, a refresh or a service client's request issued, before it is put on the wire
 * (http/token-response.ts). `refreshToken` is present only for the authorization-code flow of a
 * client with refresh tokens enabled, and for its refreshes; `email` and `redirectUrl` only for
 * a user's tokens.
 */
export interface IssuedTokens {
  accessToken: string;
  tokenType: TokenType;
  accessExpiresAt: number;
  refreshToken?: string;
  refreshExpiresAt?: number;
  /** the redirect URL the session reports (contract §3); absent for a client without one */
  redirectUrl?: string;
  /** the user's email; absent for a service client's own token (contract §8) */
  email?: string;
  /** contract §5: the granted scope, space-separated ('' for none) */
  scope: string;
  /** OpenID Connect Core §3.1.3.3: when `openid` was granted in the code flow (and on its refreshes) */
  idToken?: string;
  issuedAt: number;
}
