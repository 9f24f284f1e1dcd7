import { parseAuthorization } from './authorization-header.js';
import { Introspection } from './introspection.js';
import { JwksSource } from './jwks-source.js';
import { isCompactJws, JwtVerification } from './jwt-verification.js';
import { LruCache } from './lru-cache.js';
import { resolveOptions, type VerifierOptions } from './options.js';
import { assertScopes } from './scopes.js';
import { TokenError } from './token-error.js';
import { tokenHash } from './token-hash.js';
import type { VerifiedToken } from './verified-token.js';

export interface VerifyOptions {
  /** scopes the token must all carry (else 403 insufficient_scope) */
  scopes?: readonly string[];
}

export interface Verifier {
  /**
   * Verifies an Authorization header value (`Bearer <token>`) or a bare token.
   * @throws TokenError 400 invalid_request (malformed header), 401 (no token, or invalid_token),
   *   403 insufficient_scope, 503 temporarily_unavailable (the issuer could not be asked)
   */
  verify(authorizationOrToken: string | undefined | null, options?: VerifyOptions): Promise<VerifiedToken>;
  /** @throws TokenError 403 insufficient_scope unless `token` carries every scope of `scopes` */
  assertScopes(token: VerifiedToken, scopes: readonly string[]): void;
  /** the realm of this verifier's challenges */
  readonly realm: string;
  /** Forgets every verified JWT and every introspection answer (e.g. after a security incident). */
  clearCaches(): void;
}

/** A verified JWT kept for reuse: exp is re-checked on every hit, the entry dies with its key. */
interface VerifiedEntry {
  token: VerifiedToken;
  kid: string;
}

/** The common header form, for the cached fast path (any other spelling takes the full parse). */
function bearerToken(input: string): string | undefined {
  return input.startsWith('Bearer ') || input.startsWith('bearer ') ? input.slice(7) : undefined;
}

/**
 * createVerifier (contract §7): JWTs verified locally against the issuer's JWKS, opaque tokens by
 * introspection. No timers and no sockets of its own: nothing to close.
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const o = resolveOptions(options);
  const verified = new LruCache<VerifiedEntry>(o.verifiedCacheSize);
  // A key that left the JWKS takes the tokens it signed out of the cache (they then fail as "unknown kid").
  const keys = new JwksSource(o, (kids) => verified.deleteWhere((entry) => !kids.has(entry.kid)));
  const jwt = new JwtVerification(o, keys);
  const introspection = new Introspection(o);
  const realm = o.realm;

  /** A token met before, from either cache: undefined on a miss; throws for a cached refusal or an expired JWT. */
  function cached(key: string, now: number): VerifiedToken | undefined {
    const hit = verified.get(key, now);
    if (hit !== undefined) {
      // RFC 9068 §4: exp checked on every use, as jose does (expired when exp <= now - leeway).
      if (hit.token.expiresAt <= Math.floor(now / 1000) - o.clockTolerance) {
        verified.delete(key);
        throw new TokenError('invalid_token', 'the token has expired', { realm });
      }
      keys.refreshIfStale();
      return hit.token;
    }
    return introspection.cached(key);
  }

  async function verifyJwt(token: string, key: string): Promise<VerifiedToken> {
    const result = await jwt.verify(token);
    // Only a token whose key is known by kid can be dropped with that key: others are not kept.
    if (result.kid !== undefined && keys.has(result.kid)) {
      verified.set(key, { token: result.token, kid: result.kid }, Number.POSITIVE_INFINITY);
    }
    return result.token;
  }

  async function verifyToken(input: string | undefined | null): Promise<VerifiedToken> {
    const fast = typeof input === 'string' ? bearerToken(input) : undefined;
    let key: string | undefined;
    // Fast path: a token met before needs no syntax check — it passed one when it was first verified.
    if (fast !== undefined && verified.enabled) {
      key = tokenHash(fast);
      const hit = cached(key, o.now());
      if (hit !== undefined) return hit;
    }
    let token: string;
    let jws: boolean;
    if (fast !== undefined && isCompactJws(fast)) {
      // "Bearer <JWS>": a compact JWS is a b64token (RFC 6750 §2.1), nothing more to parse.
      token = fast;
      jws = true;
    } else {
      const parsed = parseAuthorization(input);
      if (parsed.kind === 'missing') throw new TokenError(undefined, undefined, { realm });
      if (parsed.kind === 'malformed') throw new TokenError('invalid_request', parsed.reason, { realm });
      token = parsed.token;
      // Anything that is not a three-part JWS is opaque (no reliance on a prefix).
      jws = isCompactJws(token);
      // The caches were looked in under `key` only if the fast path saw this very token.
      if (token !== fast) key = undefined;
    }
    if (jws) {
      if (!verified.enabled) return (await jwt.verify(token)).token;
      if (key === undefined) {
        key = tokenHash(token);
        const hit = cached(key, o.now());
        if (hit !== undefined) return hit;
      }
      return verifyJwt(token, key);
    }
    if (key === undefined) {
      key = tokenHash(token);
      const hit = introspection.cached(key);
      if (hit !== undefined) return hit;
    }
    return introspection.verify(token, key);
  }

  function verify(input: string | undefined | null, verifyOptions?: VerifyOptions): Promise<VerifiedToken> {
    const scopes = verifyOptions?.scopes;
    const pending = verifyToken(input);
    if (!scopes?.length) return pending;
    return pending.then((token) => {
      assertScopes(token, scopes, realm);
      return token;
    });
  }

  return {
    verify,
    assertScopes: (token, scopes) => assertScopes(token, scopes, realm),
    realm,
    clearCaches() {
      verified.clear();
      introspection.clear();
    },
  };
}
