import * as crypto from 'node:crypto';

/** crypto.hash (Node ≥ 20.12): one call, no Hash object — measurably faster on the cached paths. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash;

/**
 * The cache key of a token: SHA-256 of the whole token, so that no cache holds a token itself
 * (a heap dump shows digests, not credentials) and two tokens never share an entry.
 */
export const tokenHash: (token: string) => string = oneShot
  ? (token) => oneShot('sha256', token, 'base64url')
  : (token) => crypto.createHash('sha256').update(token).digest('base64url');
