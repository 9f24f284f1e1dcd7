import type { TokenType } from '../store/store.ts';
import type { IssuedTokens } from '../tokens/issued-tokens.ts';

/**
 * The seed's success payload, field for field ("Example Response Payload"). `refresh_token`
 * and `refresh_token_expires_in` appear only when a refresh token was issued.
 */
export interface TokenResponse {
  access_token: string;
  token_type: TokenType;
  expires_in: number;
  refresh_token?: string;
  refresh_token_expires_in?: number;
  redirect_url: string;
  email: string;
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
    redirect_url: issued.redirectUrl,
    email: issued.email,
  };
}
