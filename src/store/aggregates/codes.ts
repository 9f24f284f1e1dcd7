/** Authorization codes minted by the login page. */

export interface AuthorizationCode {
  hash: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  /** whether the authorize request named redirect_uri (then the exchange must repeat it) */
  redirectUriGiven: boolean;
  codeChallenge: string | null;
  expiresAt: number;
  usedAt: number | null;
  sessionId: string | null;
  createdAt: number;
  /** Contract §5: the scope the authorize request was granted, space-separated */
  scope: string;
  /** OpenID Connect: the browser session the user signed in with, its auth_time (ms), the request's nonce */
  browserSessionId?: string | null;
  authTime?: number | null;
  nonce?: string | null;
}

export interface CodeStore {
  create(code: AuthorizationCode): Promise<void>;
  find(hash: string): Promise<AuthorizationCode | undefined>;
  /** Single use: marks the code used only if nobody has; true for the one caller that wins. */
  consume(hash: string, sessionId: string, now: number): Promise<boolean>;
  /** Deletes at most `limit` codes that expired before `before` (used or not); returns how many. */
  prune(before: number, limit: number): Promise<number>;
}
