import type { TokenType } from '../store/store.ts';
import type { IssuedTokens } from '../tokens/issued-tokens.ts';

/**
 * The seed's success payload, field for field ("Example Response Payload"). `refresh_token`
 * and `refresh_token_expires_in` appear only when a refresh token was issued; `scope` when one
 * was granted (contract §5). A service client's own token (contract §8) has no user, so no
 * `email`, and a client registered without a redirect URL has no `redirect_url`.
 */
export interface TokenResponse {
  access_token: string;
  token_type: TokenType;
  expires_in: number;
  refresh_token?: string;
  refresh_token_expires_in?: number;
  redirect_url?: string;
  email?: string;
  /** contract §5: present whenever not empty */
  scope?: string;
  /** contract §11: when `openid` was granted */
  id_token?: string;
}

/** Remaining lifetime in whole seconds (never negative). */
export function secondsUntil(expiresAt: number, now: number): number {
  return Math.max(0, Math.floor((expiresAt - now) / 1000));
}

export function tokenResponse(issued: IssuedTokens): TokenResponse {
  return {
    access_token: issued.accessToken,
    token_type: issued.tokenType,
    expires_in: secondsUntil(issued.accessExpiresAt, issued.issuedAt),
    ...(issued.refreshToken !== undefined
      ? {
          refresh_token: issued.refreshToken,
          refresh_token_expires_in: secondsUntil(issued.refreshExpiresAt ?? issued.issuedAt, issued.issuedAt),
        }
      : {}),
    ...(issued.redirectUrl ? { redirect_url: issued.redirectUrl } : {}),
    ...(issued.email !== undefined ? { email: issued.email } : {}),
    ...(issued.scope !== '' ? { scope: issued.scope } : {}),
    ...(issued.idToken !== undefined ? { id_token: issued.idToken } : {}),
  };
}
