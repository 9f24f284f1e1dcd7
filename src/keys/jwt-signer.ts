import type { JWTPayload } from 'jose';

/** Contract §6: ES256 by default; RS256 and EdDSA available. */
export type SigningAlgorithm = 'ES256' | 'RS256' | 'EdDSA';

export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'RS256', 'EdDSA'];

/**
 * What token issuance and introspection need from the signing keys (keys/key-service.ts): sign
 * with the key that is active now, and recognise a JWT this server signed.
 */
export interface JwtSigner {
  /**
   * Signs `payload` with the active key of `alg` (default ES256), header `{ alg, kid, typ }`.
   * @throws Error when no key of that algorithm is active (never for ES256 once started)
   */
  sign(payload: JWTPayload, options: { typ: string; alg?: SigningAlgorithm }): Promise<string>;
  /**
   * The payload of a JWT whose signature verifies against one of this server's published keys
   * (any algorithm it publishes, never `none` or HMAC); undefined for anything else. Expiry is
   * the caller's business: introspection answers inactive for an expired token by its own rules.
   */
  verifyOwn(token: string): Promise<JWTPayload | undefined>;
}
