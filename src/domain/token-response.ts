import type { TokenType } from '../store/store.ts';

/**
 * The seed's success payload, field for field ("Example Response Payload"). `refresh_token`
 * and `refresh_token_expires_in` appear only for the authorization-code flow of a client with
 * refresh tokens enabled, and for its refreshes.
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
