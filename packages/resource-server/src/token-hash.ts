import { createHash } from 'node:crypto';

/**
 * The cache key of a token: SHA-256 of the whole token, so that no cache holds a token itself
 * (a heap dump shows digests, not credentials) and two tokens never share an entry.
 */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
