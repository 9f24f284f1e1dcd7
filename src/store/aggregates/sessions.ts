/** Sessions and the access and refresh tokens that belong to them. */
import type { PageQuery } from './page.ts';

export type SessionEndReason =
  | 'logout'
  | 'revoked'
  | 'end_other_sessions'
  | 'admin'
  | 'refresh_token_reuse'
  | 'code_reuse'
  | 'user_disabled'
  | 'client_disabled'
  | 'password_changed'
  /** OpenID Connect RP-Initiated Logout, or another session of the same browser session ended */
  | 'browser_logout';

export interface Session {
  id: string;
  userId: string;
  clientId: string;
  grantType: string;
  /** the redirect URL reported in token responses of this session */
  redirectUrl: string;
  startedAt: number;
  expiresAt: number;
  endedAt: number | null;
  endReason: SessionEndReason | null;
  /** Contract §5: the scope the login granted, space-separated ('' for none) */
  scope: string;
  /** Contract §6: the audience the login's tokens were issued for (null: issued before audiences existed) */
  audience: string | null;
  /** the browser session that signed it in (its sessions count once and end together); null for others */
  browserSessionId?: string | null;
  /** OpenID Connect Core §2 auth_time (ms): when the user authenticated for it; null when not known */
  authTime?: number | null;
}

/** A new token row: only the token's hash is stored (for a JWT access token, the hash of its `jti`). */
export interface NewToken {
  hash: string;
  sessionId: string;
  expiresAt: number;
  createdAt: number;
}

/** An access token keeps its own scope (a refresh may narrow it) and audience; a refresh token's are its session's. */
export interface NewAccessToken extends NewToken {
  scope: string;
  audience: string;
}

/** Contract §8: a service client's token for itself, with no user and no session. */
export interface ServiceToken {
  hash: string;
  clientId: string;
  scope: string;
  audience: string;
  expiresAt: number;
  revokedAt: number | null;
  createdAt: number;
}

/** A token row joined with its session and user: everything introspection needs in one read. */
export interface TokenRecord {
  hash: string;
  sessionId: string;
  expiresAt: number;
  revokedAt: number | null;
  createdAt: number;
  /** refresh tokens only: when it was exchanged for a new one */
  rotatedAt: number | null;
  /**
   * refresh tokens only: the tokens issued when it was rotated, encrypted with a key derived from
   * this token (so only whoever presents it again can read them); null when not rotated
   */
  successor: string | null;
  /** the token's own scope and audience (an access token's may be narrower than its session's) */
  scope: string;
  audience: string | null;
  session: Session;
  email: string;
}

/** A session just ended, and whose it was. */
export interface EndedSession {
  id: string;
  userId: string;
}

export interface SessionFilter extends PageQuery {
  userId?: string;
  /** only sessions of this organization's users */
  orgId?: string;
  /** only sessions neither ended nor expired at this time */
  activeAt?: number;
}

export interface SessionStore {
  create(session: Session): Promise<void>;
  find(id: string): Promise<Session | undefined>;
  listActive(userId: string, now: number): Promise<Session[]>;
  /** Newest first (keyset on started_at, id). */
  page(filter: SessionFilter): Promise<Session[]>;
  /** Active sessions, those of one browser session counted once (contract §11). */
  countActive(userId: string, now: number): Promise<number>;
  /** Whether the browser session has a session that is neither ended nor expired. */
  browserSessionHasActive(browserSessionId: string, now: number): Promise<boolean>;
  /** Sessions of all users neither ended nor expired at `now` (the active-sessions metric). */
  countAllActive(now: number): Promise<number>;
  /** Moves the expiry later (never earlier). */
  extend(id: string, expiresAt: number): Promise<void>;
  /** Ends one session and revokes its tokens; false when it had already ended. */
  end(id: string, reason: SessionEndReason, now: number): Promise<boolean>;
  /** Ends every active session of a user; returns the ids ended. */
  endAllOfUser(userId: string, reason: SessionEndReason, now: number): Promise<string[]>;
  /** Ends every active session of a client, revoking their tokens; returns the sessions ended. */
  endAllOfClient(clientId: string, reason: SessionEndReason, now: number): Promise<EndedSession[]>;
  /**
   * Deletes at most `limit` sessions that ended or expired before `before`, with their tokens;
   * returns how many sessions were deleted (fewer than `limit`: nothing more to prune).
   */
  prune(before: number, limit: number): Promise<number>;
}

/** What {@link TokenStore.rotateRefreshFamily} writes. */
export interface RefreshRotation {
  presentedHash: string;
  now: number;
  successor: string | null;
  access: NewAccessToken;
  refresh: NewToken;
}

export interface TokenStore {
  createAccess(token: NewAccessToken): Promise<void>;
  findAccess(hash: string): Promise<TokenRecord | undefined>;
  revokeAccess(hash: string, now: number): Promise<boolean>;
  createRefresh(token: NewToken): Promise<void>;
  findRefresh(hash: string): Promise<TokenRecord | undefined>;
  /**
   * The rotation compare-and-swap: marks the token rotated (keeping the encrypted `successor`)
   * only if it is still current. A successor replaces those of the family's earlier tokens, so a
   * family holds at most one.
   */
  rotateRefresh(hash: string, now: number, successor: string | null): Promise<boolean>;
  /**
   * A whole refresh rotation as one atomic step: the compare-and-swap above, the new access and
   * refresh tokens, and the session's expiry moved to the new access token's. False (and nothing
   * written) if the presented token was no longer current. One statement on PostgreSQL (one
   * round trip instead of seven); one transaction on SQLite.
   */
  rotateRefreshFamily(rotation: RefreshRotation): Promise<boolean>;
  revokeRefresh(hash: string, now: number): Promise<boolean>;
  createService(token: ServiceToken): Promise<void>;
  findService(hash: string): Promise<ServiceToken | undefined>;
  revokeService(hash: string, now: number): Promise<boolean>;
  /** Revokes every live token of a service client (the client disabled); returns how many. */
  revokeAllServiceOf(clientId: string, now: number): Promise<number>;
  /** Deletes at most `limit` service tokens that expired before `before`; returns how many. */
  pruneService(before: number, limit: number): Promise<number>;
}
