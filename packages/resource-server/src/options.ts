/** What createVerifier takes, and the defaults it fills in. */
import { retryingFetch } from './retrying-fetch.js';

/** RFC 9068 §4 and contract §6: asymmetric algorithms only — never `none`, never HS*. */
export type JwtAlgorithm = 'ES256' | 'RS256' | 'EdDSA';
export const JWT_ALGORITHMS: readonly JwtAlgorithm[] = ['ES256', 'RS256', 'EdDSA'];

export interface VerifierOptions {
  /** the sei-auth ISSUER, exactly as it appears in `iss` (e.g. "https://auth.example.com") */
  issuer: string;
  /** this API's audience (its `--audience` URI): a token must name it in `aud` */
  audience: string;
  /** the resource server's client id, for introspecting opaque tokens; without it only JWTs are accepted */
  clientId?: string;
  clientSecret?: string;
  /** the realm of the WWW-Authenticate challenge (default: the audience) */
  realm?: string;
  /** leeway for exp, nbf and iat, in seconds (default 5) */
  clockToleranceSeconds?: number;
  /** the algorithms accepted for JWTs: a subset of ES256, RS256, EdDSA (default all three) */
  algorithms?: readonly JwtAlgorithm[];
  /** default `{issuer}/oauth/jwks` */
  jwksUri?: string;
  /** default `{issuer}/oauth/introspect` */
  introspectionEndpoint?: string;
  jwks?: {
    /** least time between two fetches of the JWKS, e.g. on a flood of unknown kids (default 30 000) */
    cooldownMs?: number;
    /** how long a fetched JWKS is used before it is fetched again (default 300 000) */
    cacheMaxAgeMs?: number;
    /** timeout of a JWKS fetch (default 5 000) */
    timeoutMs?: number;
  };
  introspection?: {
    /** entries kept (default 10 000; 0 disables the cache) */
    cacheSize?: number;
    /** how long an active answer is reused — never past the token's exp (default 30 000) */
    cacheTtlMs?: number;
    /** how long an inactive answer is reused (default 5 000) */
    negativeTtlMs?: number;
    /** timeout of an introspection request (default 5 000) */
    timeoutMs?: number;
  };
  verifiedCache?: {
    /** JWTs kept once verified (default 10 000; 0 disables the cache) */
    size?: number;
  };
  /** Retry-After advertised with a 503 (default 5) */
  retryAfterSeconds?: number;
  /** replaces globalThis.fetch for the JWKS and introspection requests (tests, proxies) */
  fetch?: typeof fetch;
  /** the clock, in ms since the epoch (tests) */
  now?: () => number;
}

export interface ResolvedOptions {
  issuer: string;
  audience: string;
  clientId: string | undefined;
  clientSecret: string | undefined;
  realm: string;
  clockTolerance: number;
  algorithms: JwtAlgorithm[];
  jwksUri: URL;
  introspectionEndpoint: URL;
  jwks: { cooldownMs: number; cacheMaxAgeMs: number; timeoutMs: number };
  introspection: { cacheSize: number; cacheTtlMs: number; negativeTtlMs: number; timeoutMs: number };
  verifiedCacheSize: number;
  retryAfterSeconds: number;
  fetch: typeof fetch;
  now: () => number;
  /** whether `now` was given (then jose is told the time too) */
  customClock: boolean;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`sei-auth verifier: ${name} must be a number ≥ 0`);
  return value;
}

/** The issuer with no trailing slash, for the derived endpoint URLs (the `iss` check uses it as given). */
function base(issuer: string): string {
  return issuer.replace(/\/+$/, '');
}

export function resolveOptions(o: VerifierOptions): ResolvedOptions {
  if (typeof o.issuer !== 'string' || !/^https?:\/\//.test(o.issuer))
    throw new TypeError('sei-auth verifier: issuer must be an http(s) URL');
  if (typeof o.audience !== 'string' || o.audience === '') throw new TypeError('sei-auth verifier: audience is required');
  if ((o.clientId === undefined) !== (o.clientSecret === undefined))
    throw new TypeError('sei-auth verifier: clientId and clientSecret go together');
  const algorithms = [...(o.algorithms ?? JWT_ALGORITHMS)];
  for (const alg of algorithms)
    if (!JWT_ALGORITHMS.includes(alg))
      throw new TypeError(`sei-auth verifier: algorithm ${String(alg)} is not allowed (ES256, RS256, EdDSA)`);
  if (algorithms.length === 0) throw new TypeError('sei-auth verifier: algorithms must not be empty');
  return {
    issuer: o.issuer,
    audience: o.audience,
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    realm: o.realm ?? o.audience,
    clockTolerance: nonNegative('clockToleranceSeconds', o.clockToleranceSeconds, 5),
    algorithms,
    jwksUri: new URL(o.jwksUri ?? `${base(o.issuer)}/oauth/jwks`),
    introspectionEndpoint: new URL(o.introspectionEndpoint ?? `${base(o.issuer)}/oauth/introspect`),
    jwks: {
      cooldownMs: nonNegative('jwks.cooldownMs', o.jwks?.cooldownMs, 30_000),
      cacheMaxAgeMs: nonNegative('jwks.cacheMaxAgeMs', o.jwks?.cacheMaxAgeMs, 300_000),
      timeoutMs: nonNegative('jwks.timeoutMs', o.jwks?.timeoutMs, 5_000),
    },
    introspection: {
      cacheSize: nonNegative('introspection.cacheSize', o.introspection?.cacheSize, 10_000),
      cacheTtlMs: nonNegative('introspection.cacheTtlMs', o.introspection?.cacheTtlMs, 30_000),
      negativeTtlMs: nonNegative('introspection.negativeTtlMs', o.introspection?.negativeTtlMs, 5_000),
      timeoutMs: nonNegative('introspection.timeoutMs', o.introspection?.timeoutMs, 5_000),
    },
    verifiedCacheSize: nonNegative('verifiedCache.size', o.verifiedCache?.size, 10_000),
    retryAfterSeconds: nonNegative('retryAfterSeconds', o.retryAfterSeconds, 5),
    fetch: retryingFetch(o.fetch ?? ((input, init) => globalThis.fetch(input, init))),
    now: o.now ?? Date.now,
    customClock: o.now !== undefined,
  };
}
