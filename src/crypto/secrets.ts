import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Opaque credentials: a kind prefix (so a leaked string says what it is, and secret scanners
 * can match it) and 256 bits from the CSPRNG. Only {@link hashSecret} of a credential is stored.
 */
export type SecretKind = 'access_token' | 'refresh_token' | 'authorization_code' | 'client_secret';

const PREFIX: Readonly<Record<SecretKind, string>> = {
  access_token: 'sat_',
  refresh_token: 'srt_',
  authorization_code: 'sac_',
  client_secret: 'scs_',
};

export function newSecret(kind: SecretKind): string {
  return PREFIX[kind] + randomBytes(32).toString('base64url');
}

/** A public identifier (client ids, user ids …): random, not secret. */
export function newId(prefix: string): string {
  return prefix + randomBytes(12).toString('base64url');
}

/**
 * SHA-256 is enough for 256-bit random credentials: there is nothing to brute-force, so a slow
 * hash would only cost every token request (Hydra's bcrypt client secrets ran at ~87 req/s).
 * User passwords, which are guessable, use argon2id instead (crypto/passwords.ts).
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Constant-time equality of two strings, whatever their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a, 'utf8').digest();
  const right = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(left, right) && a.length === b.length;
}
