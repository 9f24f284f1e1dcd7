import { hashSecret } from '../crypto/secrets.ts';
import type { StoreOps, TokenRecord } from '../store/store.ts';

export type TokenKind = 'access_token' | 'refresh_token';

/** Looks a presented token up as the hinted kind first, then the other (RFC 7009 §2.1, RFC 7662 §2.1). */
export async function findPresentedToken(
  store: StoreOps,
  token: string,
  hint: string | undefined,
): Promise<{ kind: TokenKind; record: TokenRecord } | undefined> {
  const hash = hashSecret(token);
  const order: TokenKind[] = hint === 'refresh_token' ? ['refresh_token', 'access_token'] : ['access_token', 'refresh_token'];
  for (const kind of order) {
    const record = kind === 'access_token' ? await store.tokens.findAccess(hash) : await store.tokens.findRefresh(hash);
    if (record) return { kind, record };
  }
  return undefined;
}

/** Alive: not revoked, not rotated, not expired, and its session has not ended. */
export function isActive(record: TokenRecord, now: number): boolean {
  return record.revokedAt === null && record.rotatedAt === null && record.session.endedAt === null && record.expiresAt > now;
}
