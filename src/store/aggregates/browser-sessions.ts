/**
 * Browser sessions: the authorization server's own sign-in in a browser (the "OP session" of
 * OpenID Connect Core §3.1.2.1), which lets a second app sign the same person in without a
 * password. The cookie holds a random value; only its SHA-256 is stored.
 */

import type { SessionEndReason } from './sessions.ts';

export interface BrowserSession {
  /** `bs_…`: the `sid` of every ID token issued through it */
  id: string;
  /** SHA-256 of the cookie's random value */
  secretHash: string;
  userId: string;
  /** when the user last authenticated in it (OpenID Connect Core §2 auth_time) */
  authTime: number;
  expiresAt: number;
  endedAt: number | null;
  createdAt: number;
}

export interface BrowserSessionStore {
  create(session: BrowserSession): Promise<void>;
  find(id: string): Promise<BrowserSession | undefined>;
  findBySecret(secretHash: string): Promise<BrowserSession | undefined>;
  /** A new sign-in of the same person in it (prompt=login, max_age): auth_time moves, the expiry too. */
  reauthenticate(id: string, authTime: number, expiresAt: number): Promise<boolean>;
  /**
   * Ends it and every session it signed in (their tokens revoked); returns the ids of the
   * sessions that were still active. Ending an ended browser session ends nothing more.
   */
  end(id: string, reason: SessionEndReason, now: number): Promise<string[]>;
  /** Ends every live browser session of a user but `except` (the one a login continues, if any). */
  endAllOfUser(userId: string, now: number, except: string | null): Promise<void>;
  /** Deletes at most `limit` browser sessions that ended or expired before `before`; how many. */
  prune(before: number, limit: number): Promise<number>;
}
