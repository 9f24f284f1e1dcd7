import type { TokenType } from '../store/store.ts';

/**
 * What a login or a refresh issued, before it is put on the wire (http/token-response.ts).
 * `refreshToken` is present only for the authorization-code flow of a client with refresh
 * tokens enabled, and for its refreshes.
 */
export interface IssuedTokens {
  accessToken: string;
  tokenType: TokenType;
  accessExpiresAt: number;
  refreshToken?: string;
  refreshExpiresAt?: number;
  /** the redirect URL the session reports (contract §3) */
  redirectUrl: string;
  email: string;
  issuedAt: number;
}
