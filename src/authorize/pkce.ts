import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * PKCE (RFC 7636), S256 only: the syntax of challenges and verifiers, and the check at the
 * token endpoint. Pure functions; no HTTP, no store.
 */

/** RFC 7636 §4.1: code-verifier = 43*128unreserved, unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~". */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** RFC 7636 §4.2: the S256 challenge is BASE64URL(SHA256(verifier)) without padding: 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** The only method this server accepts (RFC 9700 §2.1.1: plain is not to be used). */
export const PKCE_METHOD = 'S256';

export function isValidVerifier(verifier: string): boolean {
  return VERIFIER.test(verifier);
}

export function isValidS256Challenge(challenge: string): boolean {
  return S256_CHALLENGE.test(challenge);
}

/** RFC 7636 §4.2: code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier))). */
export function s256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/**
 * RFC 7636 §4.6: the server computes the challenge from the verifier and compares it with the
 * stored one. A malformed verifier never matches. The comparison is constant-time.
 */
export function verifierMatches(verifier: string, storedChallenge: string): boolean {
  if (!isValidVerifier(verifier)) return false;
  const computed = Buffer.from(s256Challenge(verifier), 'ascii');
  const stored = Buffer.from(storedChallenge, 'ascii');
  return computed.length === stored.length && timingSafeEqual(computed, stored);
}
