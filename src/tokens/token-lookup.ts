import { storedKey } from '../crypto/secrets.ts';
import type { JwtSigner } from '../keys/jwt-signer.ts';
import type { ServiceToken, StoreOps, TokenRecord } from '../store/store.ts';

export type TokenKind = 'access_token' | 'refresh_token';

/** A token this server issued, found by its stored hash. */
export type PresentedToken =
  | { kind: TokenKind; hash: string; record: TokenRecord }
  /** contract §8: a service client's own access token */
  | { kind: 'service_token'; hash: string; record: ServiceToken };

/** A JWS in compact form (RFC 7515 §7.1): three base64url parts, a JSON header first ("eyJ" is `{"`). */
function looksLikeJwt(token: string): boolean {
  return token.startsWith('eyJ') && token.length <= 8192 && token.split('.').length === 3;
}

/**
 * Looks a presented token up (RFC 7009 §2.1, RFC 7662 §2.1). A JWT access token is recognised
 * only when its signature verifies with one of this server's keys; its row is found by the hash
 * of its `jti` (contract §6). An opaque token is looked up as the hinted kind first, then the
 * other, then as a service token.
 */
export async function findPresentedToken(
  store: StoreOps,
  signer: JwtSigner,
  token: string,
  hint: string | undefined,
): Promise<PresentedToken | undefined> {
  if (looksLikeJwt(token)) {
    const payload = await signer.verifyOwn(token);
    if (!payload || typeof payload.jti !== 'string') return undefined;
    const hash = storedKey(payload.jti);
    if (typeof payload.sid === 'string') {
      const record = await store.tokens.findAccess(hash);
      return record && record.sessionId === payload.sid ? { kind: 'access_token', hash, record } : undefined;
    }
    const record = await store.tokens.findService(hash);
    return record && record.clientId === payload.client_id ? { kind: 'service_token', hash, record } : undefined;
  }
  const hash = storedKey(token);
  const order: TokenKind[] = hint === 'refresh_token' ? ['refresh_token', 'access_token'] : ['access_token', 'refresh_token'];
  for (const kind of order) {
    const record = kind === 'access_token' ? await store.tokens.findAccess(hash) : await store.tokens.findRefresh(hash);
    if (record) return { kind, hash, record };
  }
  const service = await store.tokens.findService(hash);
  return service && { kind: 'service_token', hash, record: service };
}

/** Alive: not revoked, not rotated, not expired, and its session (if it has one) has not ended. */
export function isActive(found: PresentedToken, now: number): boolean {
  if (found.kind === 'service_token') return found.record.revokedAt === null && found.record.expiresAt > now;
  const { record } = found;
  return record.revokedAt === null && record.rotatedAt === null && record.session.endedAt === null && record.expiresAt > now;
}
