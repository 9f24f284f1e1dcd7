import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { hashSecret, randomBase64url } from '../../crypto/secrets.ts';
import { openWithSecret, sealWithSecret } from '../../crypto/token-sealing.ts';
import type { Store } from '../../store/store.ts';
import type { IssuedTokens } from '../../tokens/issued-tokens.ts';

/**
 * The backend-for-frontend's server-side state, in the store so every instance reads it: a
 * pending sign-in (OAuth `state` and the PKCE verifier, RFC 7636 §4.1) and then the signed-in
 * session's tokens. A row is keyed by the SHA-256 of the cookie's random id and sealed with a key
 * derived from that id, so neither the database alone nor the cookie alone yields a token.
 */
const SEAL_INFO = 'admin console session, aes-256-gcm';
/** Time to type a password (or go through an IdP) between /admin/login and the callback. */
export const SIGN_IN_TTL_MS = 10 * 60_000;

export interface PendingSignIn {
  kind: 'pending';
  state: string;
  verifier: string;
}

export interface ConsoleTokens {
  kind: 'tokens';
  accessToken: string;
  accessExpiresAt: number;
  refreshToken?: string;
  refreshExpiresAt?: number;
}

export interface ConsoleSession {
  id: string;
  userId: string;
  tokens: ConsoleTokens;
  expiresAt: number;
}

/** RFC 7636 §4.2: S256 challenge of the verifier. */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export function tokensOf(issued: IssuedTokens): ConsoleTokens {
  return {
    kind: 'tokens',
    accessToken: issued.accessToken,
    accessExpiresAt: issued.accessExpiresAt,
    refreshToken: issued.refreshToken,
    refreshExpiresAt: issued.refreshExpiresAt,
  };
}

/** The session lives as long as it can still get an access token. */
function sessionExpiry(tokens: ConsoleTokens): number {
  return tokens.refreshToken !== undefined && tokens.refreshExpiresAt !== undefined ? tokens.refreshExpiresAt : tokens.accessExpiresAt;
}

export class ConsoleSessions {
  private readonly store: Store;
  private readonly clock: Clock;

  constructor(deps: { store: Store; clock: Clock }) {
    this.store = deps.store;
    this.clock = deps.clock;
  }

  /** A new pending sign-in; the id goes into the sign-in cookie. */
  async startSignIn(): Promise<{ id: string; pending: PendingSignIn }> {
    const now = this.clock.now();
    // Sign-ins that were never finished would otherwise stay; one cheap delete per sign-in.
    await this.store.consoleSessions.prune(now);
    const id = randomBase64url(32);
    const pending: PendingSignIn = { kind: 'pending', state: randomBase64url(32), verifier: randomBase64url(32) };
    await this.store.consoleSessions.create({
      idHash: hashSecret(id),
      sealed: sealWithSecret(id, JSON.stringify(pending), SEAL_INFO),
      userId: null,
      expiresAt: now + SIGN_IN_TTL_MS,
      createdAt: now,
    });
    return { id, pending };
  }

  /** The pending sign-in, spent: a callback can be completed once. */
  async takeSignIn(id: string): Promise<PendingSignIn | undefined> {
    const idHash = hashSecret(id);
    const row = await this.store.consoleSessions.find(idHash);
    if (!row || !(await this.store.consoleSessions.delete(idHash))) return undefined;
    if (row.expiresAt <= this.clock.now() || row.userId !== null) return undefined;
    const value = this.open(id, row.sealed);
    return value?.kind === 'pending' ? value : undefined;
  }

  /** A new session (a fresh id: the sign-in cookie's id never becomes a session id). */
  async create(userId: string, tokens: ConsoleTokens): Promise<ConsoleSession> {
    const id = randomBase64url(32);
    const expiresAt = sessionExpiry(tokens);
    await this.store.consoleSessions.create({
      idHash: hashSecret(id),
      sealed: sealWithSecret(id, JSON.stringify(tokens), SEAL_INFO),
      userId,
      expiresAt,
      createdAt: this.clock.now(),
    });
    return { id, userId, tokens, expiresAt };
  }

  async find(id: string): Promise<ConsoleSession | undefined> {
    const row = await this.store.consoleSessions.find(hashSecret(id));
    if (!row || row.userId === null || row.expiresAt <= this.clock.now()) return undefined;
    const value = this.open(id, row.sealed);
    return value?.kind === 'tokens' ? { id, userId: row.userId, tokens: value, expiresAt: row.expiresAt } : undefined;
  }

  async replaceTokens(session: ConsoleSession, tokens: ConsoleTokens): Promise<ConsoleSession> {
    const expiresAt = sessionExpiry(tokens);
    await this.store.consoleSessions.update(hashSecret(session.id), {
      sealed: sealWithSecret(session.id, JSON.stringify(tokens), SEAL_INFO),
      userId: session.userId,
      expiresAt,
    });
    return { ...session, tokens, expiresAt };
  }

  async end(id: string): Promise<void> {
    await this.store.consoleSessions.delete(hashSecret(id));
  }

  private open(id: string, sealed: string): PendingSignIn | ConsoleTokens | undefined {
    const text = openWithSecret(id, sealed, SEAL_INFO);
    return text === undefined ? undefined : (JSON.parse(text) as PendingSignIn | ConsoleTokens);
  }
}
