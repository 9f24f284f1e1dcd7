/**
 * The signing keys of JWTs (contract §6). The store knows a key only as strings: the algorithm
 * name, the public JWK as JSON, and the private JWK sealed by keys/ (never in the clear here).
 * Which key signs, which is published and when one leaves is decided by keys/key-service.ts from
 * these times alone.
 */
export interface SigningKeyRecord {
  kid: string;
  /** the JWS algorithm: ES256, RS256 or EdDSA */
  alg: string;
  /** the public JWK, JSON */
  publicJwk: string;
  /** the private JWK, sealed with the key-encryption key */
  privateJwkSealed: string;
  createdAt: number;
  /** from when it signs (it is published from createdAt) */
  activatesAt: number;
  /** set when an operator retired it: it left the JWKS then */
  retiredAt: number | null;
}

export interface SigningKeyStore {
  /** @throws StoreConflictError when the kid exists */
  create(key: SigningKeyRecord): Promise<void>;
  /** Every key, retired ones included, oldest activation first. */
  list(): Promise<SigningKeyRecord[]>;
  /** Marks the key retired at `now`; true only to the caller that retired it. */
  retire(kid: string, now: number): Promise<boolean>;
}
