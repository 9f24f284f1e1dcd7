import { newSecret, storedKey } from '../crypto/secrets.ts';
import type { NewToken } from '../store/store.ts';

/** A freshly minted refresh token: the secret for the response, the row (its hash) for the store. */
export interface MintedToken {
  secret: string;
  row: NewToken;
}

/** Refresh tokens are always opaque; their scope and audience are their session's. */
export function mintRefreshToken(sessionId: string, expiresAt: number, now: number): MintedToken {
  const secret = newSecret('refresh_token');
  return { secret, row: { hash: storedKey(secret), sessionId, expiresAt, createdAt: now } };
}
